import { isStorageFault } from './storage-fault';
import { checkWidth, type FileLimits, type RowSource, type SourceBurst, type SourceItem, type SourcePosition, START } from './source';
import { IngestError } from './ingest-error';
import { approxBytes } from './values';
import { openSheetRows } from './xlsx-sheet-reader';
import type { SheetRow } from './xlsx-sheet-rows';
import { ZipDirectory } from './zip-directory';

/** Rows handed on at a time: one at a time costs more in hand-over than in parsing. */
const BURST_ROWS = 500;
/** ...and at most about this much text, whatever the rows hold: a burst is copied to the worker thread. */
const BURST_BYTES = 4 * 1024 ** 2;
/**
 * ...and at most this many issue details: the worker holds a whole burst's issues until its batch
 * commits, and a tiny XLSX row can miss every one of a thousand required columns.
 */
const BURST_ISSUES = 10_000;

/** Rows per burst, so that rows × the issue details a row may keep stays within BURST_ISSUES. */
function burstRows(issuesPerRow: number): number {
  return Math.max(1, Math.min(BURST_ROWS, Math.floor(BURST_ISSUES / issuesPerRow)));
}

/** A sheet row as the item numbered `number`. */
function rowItem(row: SheetRow, number: number, maxColumns: number): Extract<SourceItem, { kind: 'row' }> {
  checkWidth(row.cells.length, number, maxColumns);
  return { kind: 'row', row: number, cells: row.cells };
}

/**
 * Streams one worksheet (the first when `sheet` is null) through the zip's central directory, checked
 * against `limits.zip` before anything is inflated. The sheet's rows 1..skipRows (its own row numbers)
 * are skipped; the first row present after them is the header (row 0), and data rows are numbered from
 * the sheet's rows, so row n is the sheet's row n+h when the header is the sheet's row h.
 * Resuming re-reads the sheet and skips the rows before the position.
 */
export function xlsxSource(path: string, sheet: string | null, skipRows: number, limits: FileLimits): RowSource {
  let bytesRead = 0;
  const messages: Record<string, string> = sheet === null ? { format: 'XLSX' } : { format: 'XLSX', sheet };

  /** The sheet's rows from `from` on (the header first), in bursts bounded by rows, text and issues. */
  async function* bursts(rows: AsyncIterable<SheetRow[]>, from: SourcePosition): AsyncGenerator<SourceBurst> {
    const rowsPerBurst = burstRows(limits.issues.perRow);
    let headerNumber: number | null = null;
    let items: SourceItem[] = [];
    let size = 0;
    for await (const batch of rows) {
      for (const row of batch) {
        if (row.number <= skipRows) continue; // a title, a blank line…: by the sheet's own numbers, which a re-read finds the same
        headerNumber ??= row.number;
        const number = row.number - headerNumber;
        if (number !== 0 && number < from.nextRow) continue;
        const item = rowItem(row, number, limits.maxColumns);
        items.push(item);
        size += approxBytes(item.cells);
        if (items.length === rowsPerBurst || size >= BURST_BYTES) {
          yield { items, after: { nextRow: number + 1, byteOffset: null } };
          items = [];
          size = 0;
        }
      }
    }
    if (items.length > 0) yield { items, after: { nextRow: items.at(-1)!.row + 1, byteOffset: null } };
  }

  async function* items(from: SourcePosition = START): AsyncGenerator<SourceBurst> {
    let zip: ZipDirectory | null = null;
    let found = false;
    try {
      zip = await ZipDirectory.open(path, limits.zip);
      const fileSize = zip.fileSize;
      // The share of the sheet's XML inflated, in bytes of the file: the other parts may sit anywhere in the file, and are not the rows.
      const rows = await openSheetRows(zip, sheet, (share) => {
        bytesRead = Math.max(bytesRead, Math.floor(share * fileSize));
      });
      if (rows) {
        found = true;
        yield* bursts(rows, from);
      }
      bytesRead = zip.fileSize;
    } catch (error) {
      if (error instanceof IngestError || isStorageFault(error)) throw error;
      throw new IngestError('PARSE_ERROR', `the file cannot be read as XLSX: ${(error as Error).message}`);
    } finally {
      zip?.close();
    }
    if (!found) throw new IngestError('SHEET_NOT_FOUND', sheet === null ? 'the workbook has no worksheet' : `the workbook has no worksheet named "${sheet}"`);
  }

  return { items, bytesRead: () => bytesRead, messages };
}
