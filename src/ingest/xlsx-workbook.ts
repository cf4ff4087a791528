import { posix } from 'node:path';
import { MAX_WORKBOOK_XML_BYTES, readPart, WORKBOOK_ENTRY } from './xlsx-sheets';
import { attribute, startTags } from './xlsx-xml';
import type { ZipDirectory, ZipEntry } from './zip-directory';

const RELS = 'xl/_rels/workbook.xml.rels';

/** What reading one worksheet's rows needs of a workbook: the sheet's part and the parts its cells refer to. */
export interface SheetParts {
  name: string;
  sheet: ZipEntry;
  styles: ZipEntry | undefined;
  sharedStrings: ZipEntry | undefined;
  /** Serial dates count from 1904-01-01 (workbookPr date1904="1", the only spelling exceljs takes). */
  date1904: boolean;
}

interface Relationship {
  id: string | undefined;
  type: string;
  target: string | undefined;
}

/** The zip entry a workbook relationship points at (targets are relative to xl/, or absolute from the archive's root). */
function partName(target: string): string {
  return target.startsWith('/') ? target.slice(1) : posix.normalize(posix.join('xl', target));
}

function relationships(xml: string): Relationship[] {
  return startTags(xml, 'Relationship').map((tag) => ({
    id: attribute(tag, 'Id', RELS),
    type: attribute(tag, 'Type', RELS) ?? '',
    target: attribute(tag, 'Target', RELS),
  }));
}

/**
 * The parts behind a worksheet (the first when `sheet` is null), from the workbook's relationships
 * and workbook.xml; null when the workbook has no such sheet or its part is missing.
 */
export async function sheetParts(zip: ZipDirectory, sheet: string | null): Promise<SheetParts | null> {
  const rels = relationships(await readPart(zip, RELS, MAX_WORKBOOK_XML_BYTES));
  const workbook = await readPart(zip, WORKBOOK_ENTRY, MAX_WORKBOOK_XML_BYTES);
  const entryOf = (rel: Relationship | undefined) => (rel?.target === undefined ? undefined : zip.entries.get(partName(rel.target)));
  const related = (type: string) => entryOf(rels.find((rel) => rel.type.endsWith(`/${type}`)));
  const sheets = startTags(workbook, 'sheet').map((tag) => ({ name: attribute(tag, 'name', WORKBOOK_ENTRY) ?? '', rId: attribute(tag, 'r:id', WORKBOOK_ENTRY) }));
  const chosen = sheet === null ? sheets[0] : sheets.find((candidate) => candidate.name === sheet);
  const entry = chosen?.rId === undefined ? undefined : entryOf(rels.find((rel) => rel.id === chosen.rId));
  if (!chosen || !entry) return null;
  const properties = startTags(workbook, 'workbookPr')[0];
  return {
    name: chosen.name,
    sheet: entry,
    styles: related('styles'),
    sharedStrings: related('sharedStrings'),
    date1904: properties !== undefined && attribute(properties, 'date1904', WORKBOOK_ENTRY) === '1',
  };
}
