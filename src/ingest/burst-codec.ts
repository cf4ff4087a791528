import type { SourceBurst, SourceItem, SourcePosition } from './source';
import type { RawCell } from './values';

/** In `lengths`: a cell that is not text (an XLSX number, date, boolean or empty cell); it travels in `others`. */
const NOT_TEXT = 0xffffffff;
/** In `widths`: a malformed record; its message travels in `messages`. */
const MALFORMED = 0xffffffff;

/**
 * A burst packed for the hop between threads. Copying a message costs per object in it, and a burst
 * is mostly short strings: joined into one string with their lengths beside them, it is copied as a
 * few blocks (the typed arrays are moved, not copied).
 */
export interface PackedBurst {
  text: string;
  lengths: Uint32Array;
  rows: Float64Array;
  widths: Uint32Array;
  others: RawCell[];
  messages: string[];
  after: SourcePosition;
}

export function pack(burst: SourceBurst): { packed: PackedBurst; transfer: ArrayBuffer[] } {
  const { items } = burst;
  let cellCount = 0;
  for (const item of items) if (item.kind === 'row') cellCount += item.cells.length;
  const texts: string[] = [];
  const lengths = new Uint32Array(cellCount);
  const rows = new Float64Array(items.length);
  const widths = new Uint32Array(items.length);
  const others: RawCell[] = [];
  const messages: string[] = [];
  let cell = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    rows[i] = item.row;
    if (item.kind === 'malformed') {
      widths[i] = MALFORMED;
      messages.push(item.message);
      continue;
    }
    widths[i] = item.cells.length;
    for (const value of item.cells) {
      if (typeof value === 'string') {
        texts.push(value);
        lengths[cell++] = value.length;
      } else {
        others.push(value);
        lengths[cell++] = NOT_TEXT;
      }
    }
  }
  const packed = { text: texts.join(''), lengths, rows, widths, others, messages, after: burst.after };
  return { packed, transfer: [lengths.buffer as ArrayBuffer, rows.buffer as ArrayBuffer, widths.buffer as ArrayBuffer] };
}

export function unpack(packed: PackedBurst): SourceBurst {
  const { text, lengths, rows, widths, others, messages } = packed;
  const items: SourceItem[] = new Array(rows.length);
  let offset = 0;
  let cell = 0;
  let other = 0;
  let message = 0;
  for (let i = 0; i < rows.length; i++) {
    if (widths[i] === MALFORMED) {
      items[i] = { kind: 'malformed', row: rows[i], message: messages[message++] };
      continue;
    }
    const cells: RawCell[] = new Array(widths[i]);
    for (let c = 0; c < cells.length; c++) {
      const length = lengths[cell++];
      if (length === NOT_TEXT) {
        cells[c] = others[other++];
      } else {
        cells[c] = text.slice(offset, offset + length);
        offset += length;
      }
    }
    items[i] = { kind: 'row', row: rows[i], cells };
  }
  return { items, after: packed.after };
}
