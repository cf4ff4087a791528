import type { SheetBook } from './xlsx-cells';
import { readSharedStrings } from './xlsx-shared-strings';
import { type SheetRow, sheetRows } from './xlsx-sheet-rows';
import { readPart } from './xlsx-sheets';
import { dateStyles } from './xlsx-styles';
import { sheetParts } from './xlsx-workbook';
import type { ZipDirectory } from './zip-directory';

/**
 * Opens a worksheet's rows (the first sheet's when `sheet` is null) through the zip's central
 * directory, in the order the rows need the parts whatever their order in the file: relationships
 * and workbook, styles, shared strings, then the sheet, streamed with `progress` told the share of
 * the sheet's XML inflated so far. Null when the workbook has no such sheet.
 */
export async function openSheetRows(zip: ZipDirectory, sheet: string | null, progress: (share: number) => void): Promise<AsyncGenerator<SheetRow[]> | null> {
  const parts = await sheetParts(zip, sheet);
  if (!parts) return null;
  // Without a styles part, exceljs has one style (0, General): no date.
  const styles = parts.styles ? dateStyles(await readPart(zip, parts.styles.name, parts.styles.uncompressedSize), parts.styles.name) : [false];
  const sharedStrings = parts.sharedStrings ? await readSharedStrings(await zip.openEntry(parts.sharedStrings), parts.sharedStrings.name) : undefined;
  const book: SheetBook = { part: parts.sheet.name, sharedStrings, dateStyles: styles, date1904: parts.date1904 };
  const size = Math.max(parts.sheet.uncompressedSize, 1);
  let inflated = 0;
  const stream = await zip.openEntry(parts.sheet, (bytes) => {
    inflated += bytes;
    progress(Math.min(1, inflated / size));
  });
  return sheetRows(stream, book);
}
