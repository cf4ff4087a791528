import type { Readable } from 'node:stream';
import { xmlElements } from './xlsx-elements';
import { decodeText, skipMarkup, tagEnd, tagName } from './xlsx-xml';

/**
 * One string item, a shared `<si>` or a cell's inline `<is>`, read as exceljs reads an `<si>`: the
 * text gathered since the last `<t>` opened (text between tags counts), or, when the item has runs
 * (`<r>`), every run's text joined as plainCell joins rich text. Unlike exceljs, a phonetic
 * `<rPh>…</rPh>` is skipped: it annotates the text and is no part of it (exceljs lets it replace the
 * text). Null when the item holds no text at all; a run without text adds nothing.
 */
export function stringItem(si: string, part: string): string | null {
  const open = tagEnd(si, 3);
  // The common case, <si><t>text</t></si> (or </is>), without a tag inside; an empty <t> has no text at all.
  if (si.startsWith('<t>', open + 1) && si.indexOf('<', open + 4) === si.length - 9 && si.endsWith('</t>', si.length - 5)) {
    return si.length === open + 13 ? null : decodeText(si.slice(open + 4, -9), part);
  }
  let text: string | null = null;
  const runs: Array<string | null> = [];
  let at = open + 1;
  while (at < si.length) {
    const lt = si.indexOf('<', at);
    if (lt === -1) break;
    if (lt > at) text = (text ?? '') + decodeText(si.slice(at, lt), part);
    at = skipMarkup(si, lt);
    if (at !== -1) continue;
    const end = tagEnd(si, lt + 1);
    if (end === -1) break;
    const closing = si.charCodeAt(lt + 1) === 0x2f;
    const name = tagName(si, closing ? lt + 2 : lt + 1);
    if (!closing && name === 'rPh' && si.charCodeAt(end - 1) !== 0x2f) {
      const close = si.indexOf('</rPh>', end);
      at = close === -1 ? si.length : close + 6;
      continue;
    }
    if (!closing && name === 't') text = null;
    if (name === 'r' && (closing || si.charCodeAt(end - 1) === 0x2f)) {
      runs.push(text);
      text = null;
    }
    at = end + 1;
  }
  return runs.length > 0 ? runs.join('') : text;
}

/** Items per block of the table: one string per block, not one per item. */
const BLOCK_ITEMS = 4096;

/**
 * The workbook's shared strings, packed: each block of items is one string, and an item is where it
 * starts in its block and how long it is. A table of 600,000 separate strings costs the reader's
 * collector a copy of every one of them from the young generation to the old, and a visit to each at
 * every full collection; a few hundred blocks cost almost nothing.
 */
export class SharedStringTable {
  private readonly blocks: string[] = [];
  private pending: string[] = [];
  private starts = new Int32Array(BLOCK_ITEMS);
  /** -1 for an item without text. */
  private lengths = new Int32Array(BLOCK_ITEMS);
  private count = 0;
  private blockLength = 0;

  get size(): number {
    return this.count;
  }

  add(text: string | null): void {
    if (this.count === this.starts.length) this.grow();
    this.starts[this.count] = this.blockLength;
    this.lengths[this.count] = text === null ? -1 : text.length;
    this.count++;
    if (text !== null && text !== '') {
      this.pending.push(text);
      this.blockLength += text.length;
    }
    if (this.count % BLOCK_ITEMS === 0) this.seal();
  }

  /** The item's text; null when it has none or there is no such item. */
  at(index: number): string | null {
    if (!(index >= 0 && index < this.count)) return null;
    const length = this.lengths[index];
    if (length < 0) return null;
    const start = this.starts[index];
    return this.blocks[Math.floor(index / BLOCK_ITEMS)].slice(start, start + length);
  }

  /** Ends the last block: called once every item is added. */
  seal(): void {
    this.blocks.push(this.pending.join(''));
    this.pending = [];
    this.blockLength = 0;
  }

  private grow(): void {
    const starts = new Int32Array(this.starts.length * 2);
    const lengths = new Int32Array(this.lengths.length * 2);
    starts.set(this.starts);
    lengths.set(this.lengths);
    this.starts = starts;
    this.lengths = lengths;
  }
}

/** The shared-strings table, read as a stream: only the table is kept, never the part's XML. */
export async function readSharedStrings(stream: Readable, part: string): Promise<SharedStringTable> {
  const table = new SharedStringTable();
  for await (const items of xmlElements(stream, 'si')) {
    for (const si of items) table.add(stringItem(si, part));
  }
  if (table.size % BLOCK_ITEMS !== 0) table.seal();
  return table;
}
