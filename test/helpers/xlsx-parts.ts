// Workbooks written part by part, for cases no writer library produces.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './files';
import { zipArchive } from './zip';

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export interface HandWorkbook {
  /** What goes inside <sheetData>. */
  rows: string;
  /** The <si> items, when the workbook has a shared-strings part. */
  sharedStrings?: string;
  /** <numFmts> and <cellXfs> content of a styles part, when it has one. */
  numFmts?: string;
  cellXfs?: string;
  date1904?: boolean;
}

function rels(book: HandWorkbook): string {
  const related = [
    `<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>`,
    book.cellXfs === undefined ? '' : `<Relationship Id="rId2" Type="${REL}/styles" Target="styles.xml"/>`,
    book.sharedStrings === undefined ? '' : `<Relationship Id="rId3" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>`,
  ];
  return `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${related.join('')}</Relationships>`;
}

/** Writes the workbook (one sheet, "Sheet1") to a temporary .xlsx file; the parts come before the sheet, as Excel stores them. */
export async function writeHandWorkbook(name: string, book: HandWorkbook): Promise<string> {
  const properties = book.date1904 ? '<workbookPr date1904="1"/>' : '<workbookPr/>';
  const entries = [
    { name: 'xl/_rels/workbook.xml.rels', data: rels(book) },
    { name: 'xl/workbook.xml', data: `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${MAIN}" xmlns:r="${REL}">${properties}<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>` },
    ...(book.cellXfs === undefined ? [] : [{ name: 'xl/styles.xml', data: `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="${MAIN}"><numFmts>${book.numFmts ?? ''}</numFmts><cellXfs>${book.cellXfs}</cellXfs></styleSheet>` }]),
    ...(book.sharedStrings === undefined ? [] : [{ name: 'xl/sharedStrings.xml', data: `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="${MAIN}">${book.sharedStrings}</sst>` }]),
    { name: 'xl/worksheets/sheet1.xml', data: `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}" xmlns:r="${REL}"><sheetData>${book.rows}</sheetData></worksheet>` },
  ];
  const path = join(await tempDir(), name);
  await writeFile(path, zipArchive(entries.map((entry) => ({ ...entry, deflate: true }))));
  return path;
}
