import { IngestError } from './ingest-error';
import { attribute, startTags } from './xlsx-xml';
import { NotAWorkbookError, ZipDirectory, type ZipLimits } from './zip-directory';

export const WORKBOOK_ENTRY = 'xl/workbook.xml';
export const MAX_WORKBOOK_XML_BYTES = 8 * 1024 * 1024;

/** `<sheet … name="…"/>` elements of workbook.xml, prefixed or not. */
function sheetNames(xml: string): string[] {
  return startTags(xml, 'sheet').flatMap((tag) => {
    const name = attribute(tag, 'name', WORKBOOK_ENTRY);
    return name === undefined ? [] : [name];
  });
}

/**
 * A part of the archive read whole as text (workbook, relationships, styles: small parts), at most
 * `maxBytes` of it; NotAWorkbookError when it is missing, larger or unreadable.
 */
export async function readPart(zip: ZipDirectory, name: string, maxBytes: number): Promise<string> {
  const entry = zip.entries.get(name);
  if (!entry) throw new NotAWorkbookError(`the archive has no ${name}`);
  if (entry.uncompressedSize > maxBytes) throw new NotAWorkbookError(`${name} is too large`);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await zip.openEntry(entry)) chunks.push(chunk as Buffer);
  } catch (error) {
    if (error instanceof IngestError) throw error; // inflating past its declared size: FILE_REJECTED
    throw new NotAWorkbookError(`${name} cannot be read: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The worksheet names of an XLSX file in workbook order, read from its zip directory and workbook.xml
 * only. A directory beyond `limits` fails with FILE_REJECTED before anything is inflated; a file
 * that is no zip, or has no readable workbook.xml (one whose names do not decode), with NotAWorkbookError.
 */
export async function listSheets(path: string, limits: ZipLimits): Promise<string[]> {
  const zip = await ZipDirectory.open(path, limits);
  try {
    return sheetNames(await readPart(zip, WORKBOOK_ENTRY, MAX_WORKBOOK_XML_BYTES));
  } finally {
    zip.close();
  }
}
