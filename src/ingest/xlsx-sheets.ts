import { NotAWorkbookError, ZipDirectory, type ZipLimits } from './zip-directory';

const WORKBOOK_ENTRY = 'xl/workbook.xml';
const MAX_WORKBOOK_XML_BYTES = 8 * 1024 * 1024;

/** XML's Char production: a reference to any other code point (past U+10FFFF, a surrogate, most controls) makes the document not well-formed. */
function isXmlChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (entity[0] !== '#') return named[entity.toLowerCase()];
    const code = entity[1].toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    if (!isXmlChar(code)) throw new NotAWorkbookError(`${WORKBOOK_ENTRY} holds an invalid character reference &${entity.slice(0, 20)};`);
    return String.fromCodePoint(code);
  });
}

/**
 * `<sheet … name="…"/>` elements of workbook.xml. The tag pattern cannot cross a `<` (which XML
 * forbids in attribute values too), so a crafted document cannot make it backtrack over the whole text.
 */
function sheetNames(xml: string): string[] {
  return [...xml.matchAll(/<(?:\w+:)?sheet\s(?:[^<>"']|"[^"<]*"|'[^'<]*')*>/g)].flatMap((tag) => {
    const name = /\sname\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(tag[0]);
    return name ? [decodeXml(name[1] ?? name[2])] : [];
  });
}

/**
 * The worksheet names of an XLSX file in workbook order, read from its zip directory and workbook.xml
 * only. A directory beyond `limits` fails with FILE_REJECTED before anything is inflated; a file
 * that is no zip, or has no readable workbook.xml (one whose names do not decode), with NotAWorkbookError.
 */
export async function listSheets(path: string, limits: ZipLimits): Promise<string[]> {
  const zip = await ZipDirectory.open(path, limits);
  try {
    const entry = zip.entries.get(WORKBOOK_ENTRY);
    if (!entry) throw new NotAWorkbookError(`the archive has no ${WORKBOOK_ENTRY}`);
    if (entry.uncompressedSize > MAX_WORKBOOK_XML_BYTES) throw new NotAWorkbookError(`${WORKBOOK_ENTRY} is too large`);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await zip.openEntry(entry)) chunks.push(chunk as Buffer);
    } catch (error) {
      throw new NotAWorkbookError(`${WORKBOOK_ENTRY} cannot be read: ${(error as Error).message}`);
    }
    return sheetNames(Buffer.concat(chunks).toString('utf8'));
  } finally {
    zip.close();
  }
}
