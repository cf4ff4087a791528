import { type ColumnSpec, headerKey } from '../datasets/columns';
import type { FileFormat, Issue } from '../jobs/model';
import { headerNames } from './infer';
import { IngestError } from './ingest-error';
import { isBlank, type RawCell } from './values';

/** Where each column's cell sits in a file row (-1: the file has no such column). */
export interface Layout {
  fileIndex: number[];
  /** CSV rows must have exactly this many fields; null where short rows are normal (XLSX drops empty trailing cells). */
  width: number | null;
  /** Cells past this index lie under no header cell (XLSX rows may reach past the header); null without a header. */
  headerWidth: number | null;
  warnings: Issue[];
  /** Which header cell each column was read from, for the job's messages; null without a header. */
  mapping: string | null;
}

function warning(code: string, message: string, column: string): Issue {
  return { severity: 'WARNING', code, message, row: null, column, value: null };
}

/** Each name a column answers to (its own and its aliases), as a header key, to the column's index. Submission refuses overlaps. */
function namesOf(columns: readonly ColumnSpec[]): Map<string, number> {
  const names = new Map<string, number>();
  columns.forEach((column, i) => {
    for (const name of [column.name, ...(column.aliases ?? [])]) if (!names.has(headerKey(name))) names.set(headerKey(name), i);
  });
  return names;
}

/**
 * Each column's header cell (-1: none). Of two cells naming one column (its name and an alias) the
 * first is read, as of two cells with the same text, and the other is warned about.
 */
function matchHeader(columns: readonly ColumnSpec[], known: ReadonlyMap<string, number>, names: readonly string[]): { fileIndex: number[]; warnings: Issue[] } {
  const fileIndex = columns.map(() => -1);
  const warnings: Issue[] = [];
  names.forEach((name, cell) => {
    const column = known.get(headerKey(name));
    if (column === undefined) return;
    if (fileIndex[column] === -1) fileIndex[column] = cell;
    else {
      const message = `header cell ${cell + 1} ("${name}") also names column "${columns[column].name}", read from cell ${fileIndex[column] + 1} ("${names[fileIndex[column]]}"); it is ignored`;
      warnings.push(warning('DUPLICATE_HEADER', message, columns[column].name));
    }
  });
  return { fileIndex, warnings };
}

function describeMapping(columns: readonly ColumnSpec[], names: readonly string[], fileIndex: readonly number[]): string {
  return columns.map((column, i) => (fileIndex[i] === -1 ? `${column.name} ← (none)` : `${column.name} ← "${names[fileIndex[i]]}" (${fileIndex[i] + 1})`)).join(', ');
}

/** Matches the job's columns to the file's header by name or alias (trimmed, in any case), or by position when the file has none. */
export function layoutFor(columns: ColumnSpec[], header: RawCell[] | null, format: FileFormat): Layout {
  const strictWidth = format === 'CSV';
  if (!header) {
    return { fileIndex: columns.map((_, i) => i), width: strictWidth ? columns.length : null, headerWidth: null, warnings: [], mapping: null };
  }
  const names = headerNames(header, header.length);
  const known = namesOf(columns);
  const { fileIndex, warnings: duplicates } = matchHeader(columns, known, names);
  const missing = columns.filter((_, i) => fileIndex[i] === -1);
  const missingRequired = missing.filter((column) => column.required);
  if (missingRequired.length > 0) {
    throw new IngestError('MISSING_COLUMNS', `the header lacks required column(s): ${missingRequired.map((c) => c.name).join(', ')}`);
  }
  const used = new Set(fileIndex);
  const warnings = [
    ...duplicates,
    ...missing.map((column) => warning('MISSING_COLUMN', `the header has no column "${column.name}"; its values are left empty`, column.name)),
    ...names
      .filter((name, i) => !used.has(i) && !isBlank(header[i]) && !known.has(headerKey(name)))
      .map((name) => warning('EXTRA_COLUMN', `column "${name}" is not in the schema and is ignored`, name)),
  ];
  return { fileIndex, width: strictWidth ? header.length : null, headerWidth: header.length, warnings, mapping: describeMapping(columns, names, fileIndex) };
}
