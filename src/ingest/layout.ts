import type { ColumnSpec } from '../datasets/columns';
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
}

function warning(code: string, message: string, column: string): Issue {
  return { severity: 'WARNING', code, message, row: null, column, value: null };
}

/** Matches the job's columns to the file's header by name, or by position when the file has none. */
export function layoutFor(columns: ColumnSpec[], header: RawCell[] | null, format: FileFormat): Layout {
  const strictWidth = format === 'CSV';
  if (!header) {
    return { fileIndex: columns.map((_, i) => i), width: strictWidth ? columns.length : null, headerWidth: null, warnings: [] };
  }
  const names = headerNames(header, header.length);
  const position = new Map(names.map((name, i) => [name.trim().toLowerCase(), i]));
  const fileIndex = columns.map((column) => position.get(column.name.toLowerCase()) ?? -1);
  const missing = columns.filter((_, i) => fileIndex[i] === -1);
  const missingRequired = missing.filter((column) => column.required);
  if (missingRequired.length > 0) {
    throw new IngestError('MISSING_COLUMNS', `the header lacks required column(s): ${missingRequired.map((c) => c.name).join(', ')}`);
  }
  const used = new Set(fileIndex);
  const warnings = [
    ...missing.map((column) => warning('MISSING_COLUMN', `the header has no column "${column.name}"; its values are left empty`, column.name)),
    ...names
      .filter((_, i) => !used.has(i) && !isBlank(header[i]))
      .map((name) => warning('EXTRA_COLUMN', `column "${name}" is not in the schema and is ignored`, name)),
  ];
  return { fileIndex, width: strictWidth ? header.length : null, headerWidth: header.length, warnings };
}
