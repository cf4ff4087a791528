/**
 * The cells of the line `text[start, end)` (no CR or LF in it) when csv-parse reads it plainly: each
 * field either unquoted without a quote in it, or quoted whole (doubled quotes inside) and followed by
 * the delimiter or the line's end. Null otherwise (a stray quote, a quoted field running past the
 * line): the caller then reads it character by character.
 */
export function splitLine(text: string, start: number, end: number, delimiter: string, quote: string): string[] | null {
  const cells: string[] = [];
  let nextQuote = text.indexOf(quote, start);
  for (let field = start; ; ) {
    if (field === nextQuote) {
      const close = quotedField(text, field, end, quote, cells);
      if (close === -1) return null;
      if (close + 1 === end) return cells;
      if (text[close + 1] !== delimiter) return null;
      field = close + 2;
      nextQuote = text.indexOf(quote, field);
      continue;
    }
    const found = text.indexOf(delimiter, field);
    const fieldEnd = found === -1 || found > end ? end : found;
    if (nextQuote !== -1 && nextQuote < fieldEnd) return null;
    cells.push(text.slice(field, fieldEnd));
    if (fieldEnd === end) return cells;
    field = fieldEnd + 1;
  }
}

/** Adds the value of the quoted field opening at `open` to `cells`; returns its closing quote, or -1 when it does not close before `end`. */
function quotedField(text: string, open: number, end: number, quote: string, cells: string[]): number {
  let value = '';
  for (let from = open + 1; ; ) {
    const at = text.indexOf(quote, from);
    if (at === -1 || at >= end) return -1;
    if (at + 1 < end && text[at + 1] === quote) {
      value += text.slice(from, at + 1); // a doubled quote stands for one
      from = at + 2;
      continue;
    }
    cells.push(value + text.slice(from, at));
    return at;
  }
}
