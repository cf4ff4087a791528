import { type ColumnSpec, type ColumnType, MAX_NAME_LENGTH } from '../datasets/columns';
import { isBlank, MISMATCH, type RawCell, toColumnValue } from './values';

// Narrowest first: a column takes the first type that every sampled value fits.
const CANDIDATES: readonly ColumnType[] = ['INTEGER', 'DECIMAL', 'BOOLEAN', 'DATE', 'DATETIME', 'EMAIL'];

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

function inferType(sample: readonly RawCell[][], index: number): ColumnType {
  const cells = sample.map((row) => row[index]).filter((cell) => !isBlank(cell)) as Array<Exclude<RawCell, null | undefined>>;
  if (cells.length === 0) return 'STRING';
  return CANDIDATES.find((type) => cells.every((cell) => toColumnValue(type, cell) !== MISMATCH)) ?? 'STRING';
}

/** Columns from the header and a sample of data rows (in file order, header excluded). */
export function inferColumns(names: readonly string[], sample: readonly RawCell[][]): ColumnSpec[] {
  return names.map((name, index) => ({
    name,
    type: inferType(sample, index),
    required: sample.length > 0 && sample.every((row) => !isBlank(row[index])),
    unique: false,
    pattern: null,
    min: null,
    max: null,
    values: null,
  }));
}
