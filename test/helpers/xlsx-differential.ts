// Reads a workbook's first sheet both ways: exceljs's streaming reader (as xlsxSource used it, cells
// reduced by plainCell) and Sluice's own reader, to compare them cell by cell.
import { createReadStream } from 'node:fs';
import ExcelJS from 'exceljs';
import type { RawCell } from '../../src/ingest/values';
import { openSheetRows } from '../../src/ingest/xlsx-sheet-reader';
import { ZipDirectory } from '../../src/ingest/zip-directory';

export interface ReadRow {
  number: number;
  cells: RawCell[];
}

const ZIP_LIMITS = { maxEntries: 10_000, maxEntryBytes: 2 ** 31, maxTotalBytes: 2 ** 32, maxRatio: 10_000 };

/** Reduces an exceljs cell value (rich text, formula, hyperlink, error…) to a plain typed value, as xlsxSource did. */
export function plainCell(value: unknown): RawCell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'object') {
    const cell = value as { richText?: Array<{ text: string }>; result?: unknown; text?: unknown; error?: string };
    if (cell.richText) return cell.richText.map((part) => part.text).join('');
    if ('formula' in cell || 'sharedFormula' in cell || 'result' in cell) return plainCell(cell.result);
    if (cell.text !== undefined) return plainCell(cell.text);
    if (cell.error) return cell.error;
  }
  return String(value);
}

/** The first worksheet's rows through exceljs's WorkbookReader, with the options xlsxSource gave it. */
export async function exceljsRows(path: string): Promise<ReadRow[]> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(createReadStream(path), { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  const rows: ReadRow[] = [];
  for await (const worksheet of reader) {
    for await (const row of worksheet) {
      const values = row.values as unknown[];
      rows.push({ number: row.number, cells: Array.from({ length: Math.max(values.length - 1, 0) }, (_, i) => plainCell(values[i + 1])) });
    }
    break;
  }
  return rows;
}

/** The same sheet's rows through Sluice's reader. */
export async function sluiceRows(path: string, sheet: string | null = null): Promise<ReadRow[]> {
  const zip = await ZipDirectory.open(path, ZIP_LIMITS);
  try {
    const rows = await openSheetRows(zip, sheet, () => {});
    const all: ReadRow[] = [];
    if (rows) for await (const batch of rows) all.push(...batch);
    return all;
  } finally {
    zip.close();
  }
}

/** A cell as a comparable value: Dates by their time (an invalid one as NaN), NaN kept apart from null. */
function comparable(cell: RawCell): unknown {
  if (cell instanceof Date) return { date: Number.isNaN(cell.getTime()) ? 'invalid' : cell.toISOString() };
  if (typeof cell === 'number' && Number.isNaN(cell)) return { number: 'NaN' };
  return cell;
}

/** Rows as plain data for toEqual: every cell comparable, the row's number kept. */
export function comparableRows(rows: readonly ReadRow[]): unknown[] {
  return rows.map((row) => ({ number: row.number, cells: row.cells.map(comparable) }));
}

/** A deliberate difference from exceljs at one cell ("B2"): what exceljs + plainCell gives, what Sluice gives, and why. */
export interface Difference {
  cell: string;
  exceljs: RawCell;
  sluice: RawCell;
  why: string;
}

/** The row number and column index (from 0) of a reference such as "B2". */
function position(cell: string): { row: number; column: number } {
  const [, letters, digits] = /^([A-Z]+)(\d+)$/.exec(cell) ?? [];
  if (!letters || !digits) throw new Error(`bad cell reference ${cell}`);
  return { row: Number(digits), column: [...letters].reduce((n, letter) => n * 26 + letter.charCodeAt(0) - 64, 0) - 1 };
}

/** The cell at a reference, null when its row or column is not there. */
export function cellAt(rows: readonly ReadRow[], cell: string): RawCell {
  const { row, column } = position(cell);
  return rows.find((read) => read.number === row)?.cells[column] ?? null;
}

/** exceljs's rows with each difference's cell set to what Sluice gives, so the rest is still compared to exceljs. */
export function withDifferences(rows: readonly ReadRow[], differences: readonly Difference[]): ReadRow[] {
  const patched = rows.map((read) => ({ number: read.number, cells: [...read.cells] }));
  for (const difference of differences) {
    const { row, column } = position(difference.cell);
    const read = patched.find((candidate) => candidate.number === row);
    if (!read) throw new Error(`exceljs has no row ${row}`);
    while (read.cells.length < column) read.cells.push(null);
    read.cells[column] = difference.sluice;
  }
  return patched;
}
