import { NotAWorkbookError } from './zip-directory';

/** XML's Char production: a reference to any other code point (past U+10FFFF, a surrogate, most controls) makes the document not well-formed. */
export function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes the entity and character references of a part's text or attribute value. Only XML's five
 * entities exist: a document type's own entities are never expanded (no XXE, no billion laughs), so
 * any other name fails the part, as exceljs's parser (saxes) fails it.
 */
export function decodeXml(text: string, part: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^&;<]{0,40})(;?)/g, (_, entity: string, semicolon: string) => {
    if (!semicolon) throw new NotAWorkbookError(`${part} holds an unterminated entity &${entity.slice(0, 20)}`);
    if (entity[0] !== '#') {
      const named = NAMED_ENTITIES[entity.toLowerCase()];
      if (named === undefined) throw new NotAWorkbookError(`${part} holds an undefined entity &${entity.slice(0, 20)};`);
      return named;
    }
    const code = entity[1]?.toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    if (!isXmlChar(code)) throw new NotAWorkbookError(`${part} holds an invalid character entity &${entity.slice(0, 20)};`);
    return String.fromCodePoint(code);
  });
}

/** Character data as an XML parser reports it: line ends normalised to \n, then references decoded (so that &#13; stays a carriage return). */
export function decodeText(text: string, part: string): string {
  return decodeXml(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text, part);
}

/** Where the tag whose name starts at `from` ends (its `>`), skipping quoted attribute values; -1 when the text ends first. */
export function tagEnd(text: string, from: number): number {
  // Character by character, but over one tag only: searching for quotes ahead could run to the end of the chunk at every tag.
  let quote = 0;
  for (let at = from; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (quote !== 0) {
      if (code === quote) quote = 0;
    } else if (code === 0x3e) {
      return at;
    } else if (code === 0x22 || code === 0x27) {
      quote = code;
    }
  }
  return -1;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Past a comment, CDATA section or processing instruction starting at `lt` (their text is not character data to exceljs); -1 for a tag. */
export function skipMarkup(xml: string, lt: number): number {
  const next = xml.charCodeAt(lt + 1);
  if (next !== 0x21 && next !== 0x3f) return -1;
  const terminator = next === 0x3f ? '?>' : xml.startsWith('<!--', lt) ? '-->' : xml.startsWith('<![CDATA[', lt) ? ']]>' : '>';
  const end = xml.indexOf(terminator, lt + 2);
  return end === -1 ? xml.length : end + terminator.length;
}

/** Whether a tag's name ends at `at`: white space, `>` or `/` follow it. */
export function nameEndsAt(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code === 0x3e || code === 0x2f || isSpace(code);
}

/** The name of the tag starting at `from` (just after `<` or `</`), prefix included, as exceljs matches names. */
export function tagName(text: string, from: number): string {
  let end = from;
  while (end < text.length && !nameEndsAt(text, end)) end++;
  return text.slice(from, end);
}

/**
 * The value of an unprefixed attribute in a start tag's text, decoded; undefined when absent.
 * `name` must be preceded by white space, so that `r` is not found inside `ref` or `x:r`.
 */
export function attribute(tag: string, name: string, part: string): string | undefined {
  let at = 0;
  for (;;) {
    at = tag.indexOf(name, at + 1);
    if (at === -1) return undefined;
    if (!isSpace(tag.charCodeAt(at - 1))) continue;
    let next = at + name.length;
    while (isSpace(tag.charCodeAt(next))) next++;
    if (tag[next] !== '=') continue;
    next++;
    while (isSpace(tag.charCodeAt(next))) next++;
    const quote = tag[next];
    if (quote !== '"' && quote !== "'") continue;
    const end = tag.indexOf(quote, next + 1);
    if (end === -1) return undefined;
    return decodeXml(tag.slice(next + 1, end), part);
  }
}

/** The start tags named `name` (prefixed or not) of a small part read whole, as their text. */
export function startTags(xml: string, name: string): string[] {
  // The tag pattern cannot cross a `<` (which XML forbids in attribute values too), so a crafted document cannot make it backtrack over the whole text.
  return xml.match(new RegExp(`<(?:\\w+:)?${name}(?:\\s(?:[^<>"']|"[^"<]*"|'[^'<]*')*)?/?>`, 'g')) ?? [];
}

/** The content of the first element named `name` (unprefixed) in a part read whole; empty when it has none. */
export function elementContent(xml: string, name: string): string {
  const open = xml.indexOf(`<${name}`);
  const close = open === -1 ? -1 : xml.indexOf(`</${name}>`, open);
  return close === -1 ? '' : xml.slice(open, close);
}
