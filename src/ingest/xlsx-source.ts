import { createReadStream } from 'node:fs';
import ExcelJS from 'exceljs';
import { isStorageFault } from './storage-fault';
import { IngestError, type RowSource, type SourceBurst, type SourceItem, type SourcePosition, START } from './source';
import type { RawCell } from './values';

/** Rows handed on at a time: one at a time costs more in hand-over than in parsing. */
const BURST_ROWS = 500;

/** Reduces an exceljs cell value (rich text, formula, hyperlink, error…) to a plain typed value. */
export function plainCell(value: unknown): RawCell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'object') {
    const cell = value as { richText?: Array<{ text: string }>; result?: unknown; text?: unknown; error?: string };
    if (cell.richText) return cell.richText.map((part) => part.text).join('');
    if ('result' in cell) return plainCell(cell.result);
    if (cell.text !== undefined) return plainCell(cell.text);
    if (cell.error) return cell.error;
  }
  return String(value);
}

/**
 * Streams one worksheet with exceljs's WorkbookReader. The first row of the sheet is the header (row 0);
 * data rows are numbered from the sheet's rows, so row n is the sheet's row n+1 when the header is row 1.
 * A zip cannot be entered midway: resuming re-reads the sheet and skips the rows before the position.
 */
export function xlsxSource(path: string, sheet: string): RowSource {
  let bytesRead = 0;
  const messages = { format: 'XLSX', sheet };

  async function* items(from: SourcePosition = START): AsyncGenerator<SourceBurst> {
    const file = createReadStream(path, { highWaterMark: 256 * 1024 });
    file.on('data', (chunk) => {
      bytesRead += chunk.length;
    });
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
      sharedStrings: 'cache',
      styles: 'cache', // dates are numbers with a date format: styles tell them apart
      hyperlinks: 'ignore',
      worksheets: 'emit',
      entries: 'ignore',
    });
    let found = false;
    try {
      for await (const worksheet of reader) {
        if ((worksheet as unknown as { name: string }).name !== sheet) continue;
        found = true;
        let headerNumber: number | null = null;
        let items: SourceItem[] = [];
        for await (const row of worksheet) {
          headerNumber ??= row.number;
          const number = row.number - headerNumber;
          if (number !== 0 && number < from.nextRow) continue;
          const values = row.values as unknown[];
          const cells: RawCell[] = [];
          for (let i = 1; i < values.length; i++) cells.push(plainCell(values[i]));
          items.push({ kind: 'row', row: number, cells });
          if (items.length === BURST_ROWS) {
            yield { items, after: { nextRow: number + 1, byteOffset: null } };
            items = [];
          }
        }
        if (items.length > 0) yield { items, after: { nextRow: items.at(-1)!.row + 1, byteOffset: null } };
      }
    } catch (error) {
      if (error instanceof IngestError || isStorageFault(error)) throw error;
      throw new IngestError('PARSE_ERROR', `the file cannot be read as XLSX: ${(error as Error).message}`);
    } finally {
      file.destroy();
    }
    if (!found) throw new IngestError('SHEET_NOT_FOUND', `the workbook has no worksheet named "${sheet}"`);
  }

  return { items, bytesRead: () => bytesRead, messages };
}
