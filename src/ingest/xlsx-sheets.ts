import yauzl from 'yauzl';

const WORKBOOK_ENTRY = 'xl/workbook.xml';
const MAX_WORKBOOK_XML_BYTES = 8 * 1024 * 1024;

export class NotAWorkbookError extends Error {}

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (entity[0] !== '#') return named[entity.toLowerCase()];
    return String.fromCodePoint(entity[1].toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
  });
}

/**
 * `<sheet … name="…"/>` elements of workbook.xml. The tag pattern cannot cross a `<` (which XML
 * forbids in attribute values too), so a crafted document cannot make it backtrack over the whole text.
 */
function sheetNames(xml: string): string[] {
  return [...xml.matchAll(/<(?:\w+:)?sheet\s(?:[^<>"']|"[^"<]*"|'[^'<]*')*>/g)].flatMap((tag) => {
    const name = /\sname=(?:"([^"]*)"|'([^']*)')/.exec(tag[0]);
    return name ? [decodeXml(name[1] ?? name[2])] : [];
  });
}

/** The worksheet names of an XLSX file in workbook order, read from its zip directory and workbook.xml only. */
export function listSheets(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (openError, zip) => {
      if (openError || !zip) return reject(new NotAWorkbookError(`not a readable zip archive: ${openError?.message}`));
      zip.on('error', (error) => reject(new NotAWorkbookError(error.message)));
      zip.on('end', () => reject(new NotAWorkbookError(`the archive has no ${WORKBOOK_ENTRY}`)));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== WORKBOOK_ENTRY) return zip.readEntry();
        if (entry.uncompressedSize > MAX_WORKBOOK_XML_BYTES) return reject(new NotAWorkbookError(`${WORKBOOK_ENTRY} is too large`));
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(new NotAWorkbookError(`${WORKBOOK_ENTRY} cannot be read`));
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', (error) => reject(new NotAWorkbookError(error.message)));
          stream.on('end', () => {
            zip.close();
            const xml = Buffer.concat(chunks).toString('utf8');
            resolve(sheetNames(xml));
          });
        });
      });
      zip.readEntry();
    });
  });
}
