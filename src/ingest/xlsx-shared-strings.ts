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

/** The shared-strings table, read as a stream: only the table is kept, never the part's XML. */
export async function readSharedStrings(stream: Readable, part: string): Promise<Array<string | null>> {
  const table: Array<string | null> = [];
  for await (const items of xmlElements(stream, 'si')) {
    for (const si of items) table.push(stringItem(si, part));
  }
  return table;
}
