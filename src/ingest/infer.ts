import type { ColumnType } from '../datasets/column-types';
import { type ColumnSpec, MAX_NAME_LENGTH } from '../datasets/columns';
import type { FileFormat } from '../jobs/model';
import { isBlank, MISMATCH, type RawCell, toColumnValue } from './values';

// Narrowest first: a column takes the first type that every sampled value fits.
const CANDIDATES: readonly ColumnType[] = ['INTEGER', 'DECIMAL', 'BOOLEAN', 'DATE', 'DATETIME', 'EMAIL'];

/** A zero followed by another digit ("007", "-00501", "00.5"), which a number would drop: "0" and "0.5" do not have one. */
const LEADING_ZERO = /^[+-]?0\d/;

type Cell = Exclude<RawCell, null | undefined>;

/**
 * Text that reads as a number but must stay as written: with leading zeros (zip and county codes),
 * or, from a file whose cells are typed (XLSX), any such text, since its author chose text over a number.
 */
function isNumberAsText(cell: Cell, typedCells: boolean): boolean {
  if (typeof cell !== 'string' || toColumnValue('DECIMAL', cell) === MISMATCH) return false;
  return typedCells || LEADING_ZERO.test(cell.trim());
}

/** Column names from a header row: blank cells get a positional name, repeats get a suffix. */
export function headerNames(header: readonly RawCell[] | null, width: number): string[] {
  const taken = new Set<string>();
  const names: string[] = [];
  for (let i = 0; i < Math.max(width, header?.length ?? 0); i++) {
    // eslint-disable-next-line no-control-regex
    const given = isBlank(header?.[i]) ? '' : String(header![i] instanceof Date ? (header![i] as Date).toISOString() : header![i]).replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    const base = [...(given || `column_${i + 1}`)].slice(0, MAX_NAME_LENGTH - 4).join('');
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}_${n}`;
    taken.add(name.toLowerCase());
    names.push(name);
  }
  return names;
}

function inferType(sample: readonly RawCell[][], index: number, typedCells: boolean): ColumnType {
  const cells = sample.map((row) => row[index]).filter((cell) => !isBlank(cell)) as Cell[];
  if (cells.length === 0 || cells.some((cell) => isNumberAsText(cell, typedCells))) return 'STRING';
  return CANDIDATES.find((type) => cells.every((cell) => toColumnValue(type, cell) !== MISMATCH)) ?? 'STRING';
}

/** Columns from the header and a sample of data rows (in file order, header excluded) of a file of `format`. */
export function inferColumns(names: readonly string[], sample: readonly RawCell[][], format: FileFormat): ColumnSpec[] {
  return names.map((name, index) => ({
    name,
    type: inferType(sample, index, format === 'XLSX'),
    required: sample.length > 0 && sample.every((row) => !isBlank(row[index])),
    unique: false,
    pattern: null,
    min: null,
    max: null,
    values: null,
    aliases: null,
    format: null,
  }));
}
