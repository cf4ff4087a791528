import type { Readable } from 'node:stream';
import type { RawCell } from './values';
import { type CellSlot, cellColumn, cellValue, type SheetBook, UNCHANGED, VALUELESS } from './xlsx-cells';
import { nextStart, xmlElements } from './xlsx-elements';
import { attribute, tagEnd } from './xlsx-xml';

/** A worksheet row: its number in the sheet, and its cells from column A to the last one holding a value. */
export interface SheetRow {
  number: number;
  cells: RawCell[];
}

/** The row's cells as plainCell gives exceljs's row.values from column 1: up to the last cell present, gaps as null. */
function plainCells(slots: CellSlot[]): RawCell[] {
  let width = slots.length;
  while (width > 0 && (slots[width - 1] === undefined || slots[width - 1] === null)) width--;
  const cells: RawCell[] = new Array<RawCell>(width);
  for (let i = 0; i < width; i++) {
    const slot = slots[i];
    cells[i] = slot === undefined || slot === VALUELESS ? null : slot;
  }
  return cells;
}

/**
 * One `<row>` element: numbered by its `r` (the row after `previous` when it has none), each `<c>`
 * placed at its `r` column (the next column when it has none), a later cell at the same column
 * replacing an earlier one when it has a value.
 */
export function parseRow(xml: string, previous: number, book: SheetBook): SheetRow {
  const open = tagEnd(xml, 4);
  const tag = xml.slice(0, open);
  const r = parseInt(attribute(tag, 'r', book.part) ?? '', 10);
  const rowStyle = attribute(tag, 's', book.part);
  const rowIsDate = rowStyle ? (book.dateStyles[parseInt(rowStyle, 10)] ?? false) : false;
  const slots: CellSlot[] = [];
  let column = 0;
  let at = open + 1;
  for (let start = nextStart(xml, '<c', at); start !== -1; start = nextStart(xml, '<c', at)) {
    const end = tagEnd(xml, start + 2);
    const cellTag = xml.slice(start, end);
    column = cellColumn(attribute(cellTag, 'r', book.part), column);
    if (xml.charCodeAt(end - 1) === 0x2f) {
      at = end + 1;
      continue;
    }
    const close = xml.indexOf('</c>', end);
    if (close === -1) break;
    const value = cellValue(cellTag, xml.slice(end + 1, close), rowIsDate, book);
    if (value !== UNCHANGED) slots[column - 1] = value;
    at = close + 4;
  }
  return { number: Number.isNaN(r) ? previous + 1 : r, cells: plainCells(slots) };
}

/** The worksheet's rows, a batch per chunk of its XML, never more of the XML in memory than a row and a chunk. */
export async function* sheetRows(stream: Readable, book: SheetBook): AsyncGenerator<SheetRow[]> {
  let previous = 0;
  for await (const elements of xmlElements(stream, 'row')) {
    yield elements.map((xml) => {
      const row = parseRow(xml, previous, book);
      previous = row.number;
      return row;
    });
  }
}
