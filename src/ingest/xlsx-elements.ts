import { nameEndsAt, tagEnd } from './xlsx-xml';

/** Where the next start tag `open` (`<` and an unprefixed name) begins at or after `from`; -1 when none, or when the text ends inside its name. */
export function nextStart(text: string, open: string, from: number): number {
  for (let at = text.indexOf(open, from); at !== -1; at = text.indexOf(open, at + 1)) {
    if (at + open.length >= text.length) return -1;
    if (nameEndsAt(text, at + open.length)) return at;
  }
  return -1;
}

/** Whole elements found in a text, where the unfinished rest begins, and where to look again for the end of the unfinished element. */
interface Scan {
  found: string[];
  rest: number;
  /** From `rest`: the end tag is not before this offset (so a long element is not searched again from its start at every chunk). */
  closeFrom: number;
}

/** The whole elements named `name` in `text`; the end tag of the first one is not before `closeFrom`. */
function completeElements(text: string, name: string, closeFrom: number): Scan {
  const open = `<${name}`;
  const close = `</${name}>`;
  const found: string[] = [];
  let at = 0;
  for (;;) {
    const start = nextStart(text, open, at);
    // No start tag: keep only what could be the beginning of one.
    if (start === -1) return { found, rest: Math.max(at, text.length - open.length), closeFrom: 0 };
    const end = tagEnd(text, start + open.length);
    if (end === -1) return { found, rest: start, closeFrom: 0 };
    if (text.charCodeAt(end - 1) === 0x2f) {
      found.push(text.slice(start, end + 1));
      at = end + 1;
      continue;
    }
    const closing = text.indexOf(close, Math.max(end, start + closeFrom));
    if (closing === -1) return { found, rest: start, closeFrom: Math.max(end - start, text.length - start - close.length + 1) };
    at = closing + close.length;
    found.push(text.slice(start, at));
    closeFrom = 0;
  }
}

/**
 * The elements named `name` (`row`, `si`…) of a part's XML as text, whole, a batch per chunk read:
 * only the unfinished element is kept between chunks, never the part. Bytes are decoded as UTF-8
 * across chunk boundaries; malformed sequences become U+FFFD, as in exceljs's reader.
 */
export async function* xmlElements(chunks: AsyncIterable<Buffer>, name: string): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let closeFrom = 0;
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    const scan = completeElements(pending, name, closeFrom);
    pending = pending.slice(scan.rest);
    closeFrom = scan.closeFrom;
    if (scan.found.length > 0) yield scan.found;
  }
  const last = completeElements(pending + decoder.decode(), name, closeFrom);
  if (last.found.length > 0) yield last.found;
}
