import type { RawCell } from './values';
import { type SharedStringTable, stringItem } from './xlsx-shared-strings';
import { attribute, decodeText, skipMarkup, tagEnd, tagName } from './xlsx-xml';

/** What a sheet's cells are read with: its workbook's shared strings, date styles and date system. */
export interface SheetBook {
  /** The worksheet's part, named in errors. */
  part: string;
  /** Undefined when the workbook has no shared-strings part. */
  sharedStrings: SharedStringTable | undefined;
  /** Per cell style, whether it shows numbers as dates (see dateStyles). */
  dateStyles: readonly boolean[];
  date1904: boolean;
}

/** A cell that is there but has no value (a formula without a cached result, an empty error, an unresolvable shared string): it counts in the row's width. */
export const VALUELESS = Symbol('valueless cell');
/** A cell without `<v>` nor `<f>`: it leaves whatever the row held at its column. */
export const UNCHANGED = Symbol('unchanged cell');
/** A row's cells by column index; null and undefined are no cell, as exceljs's row.values leaves them out. */
export type CellSlot = RawCell | typeof VALUELESS;

/** exceljs's serial number to Date (utils.excelToDate), rounded to the millisecond. */
function excelDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 24 * 3600 * 1000));
}

/** The column (from 1) of a cell: its `r` reference's letters, read as exceljs reads them; the next column when it has none. */
export function cellColumn(ref: string | undefined, previous: number): number {
  if (ref === undefined) return previous + 1;
  let column = 0;
  let hasRow = false;
  for (let i = 0; i < ref.length; i++) {
    const code = ref.charCodeAt(i);
    if (!hasRow && code >= 65 && code <= 90) column = column * 26 + code - 64;
    else if (code >= 48 && code <= 57) hasRow = true;
    else if (hasRow && column > 0 && code !== 36) break;
  }
  if (column === 0) throw new Error(`the cell reference "${ref.slice(0, 20)}" names no column`);
  if (column > 16384) throw new Error(`the cell reference "${ref.slice(0, 20)}" is past the last column (XFD)`);
  return column;
}

/** What exceljs's reader keeps of a cell's content. */
interface CellContent {
  /** An `<f>` was opened. */
  formula: boolean;
  /**
   * The text of the last `<v>`, `<is>` or `<t>` opened, with the character data that follows it up
   * to the cell's end; an `<is>` read whole as a string item (all its runs, no phonetic run).
   */
  text: string | undefined;
}

/** A cell's content as exceljs's reader sees it: any text goes to the element last opened, white space between tags included. */
function cellContent(content: string, part: string): CellContent {
  // The common case, <v>text</v>, without a tag inside.
  if (content.startsWith('<v>') && content.endsWith('</v>') && content.indexOf('<', 3) === content.length - 4) {
    return { formula: false, text: decodeText(content.slice(3, -4), part) };
  }
  const cell: CellContent = { formula: false, text: undefined };
  let target: 'formula' | 'text' | null = null;
  let at = 0;
  while (at < content.length) {
    const lt = content.indexOf('<', at);
    const textEnd = lt === -1 ? content.length : lt;
    if (textEnd > at && target === 'text') cell.text += decodeText(content.slice(at, textEnd), part);
    if (lt === -1) break;
    at = skipMarkup(content, lt);
    if (at !== -1) continue;
    const end = tagEnd(content, lt + 1);
    if (end === -1) break;
    const name = content.charCodeAt(lt + 1) === 0x2f ? '' : tagName(content, lt + 1);
    if (name === 'f') [cell.formula, target] = [true, 'formula'];
    else if (name === 'is' && content.charCodeAt(end - 1) !== 0x2f) {
      // Read whole, so that every run counts and not only the last (exceljs keeps the last); an <is>
      // without text is "", as in exceljs.
      const close = content.indexOf('</is>', end);
      if (close === -1) break;
      [cell.text, target] = [stringItem(content.slice(lt, close + 5), part) ?? '', 'text'];
      at = close + 5;
      continue;
    } else if (name === 'v' || name === 'is' || name === 't') [cell.text, target] = ['', 'text'];
    at = end + 1;
  }
  return cell;
}

/**
 * A shared-string cell: the table's text, null when the index is not in it (as exceljs); no value
 * when the workbook has no table (exceljs keeps an unresolved object, which plainCell prints).
 */
function sharedStringCell(book: SheetBook, text: string): CellSlot {
  return book.sharedStrings ? book.sharedStrings.at(parseInt(text, 10)) : VALUELESS;
}

/**
 * A cell's value by its type, numbers in a date style becoming Dates. A formula's value is its
 * cached result, whatever it is (exceljs drops a falsy one: 0, "", FALSE), typed as any cell's
 * but never a date, as in exceljs; VALUELESS when none is cached. UNCHANGED when the cell holds
 * neither value nor formula. Texts are decoded once, as XML says (exceljs decodes str and
 * inlineStr texts twice).
 */
export function cellValue(tag: string, content: string, rowIsDate: boolean, book: SheetBook): CellSlot | typeof UNCHANGED {
  const cell = cellContent(content, book.part);
  const type = attribute(tag, 't', book.part);
  const text = cell.text;
  if (text === undefined) return cell.formula ? VALUELESS : UNCHANGED;
  switch (type) {
    case 's':
      return sharedStringCell(book, text);
    case 'inlineStr':
    case 'str':
      return text;
    case 'e':
      return text === '' ? VALUELESS : text; // an error without its code holds nothing to give
    case 'b':
      return parseInt(text, 10) !== 0;
    default: {
      // An empty <v> is how openpyxl writes a formula it has no result for.
      if (cell.formula) return text === '' ? VALUELESS : parseFloat(text);
      const style = parseInt(attribute(tag, 's', book.part) ?? '', 10);
      const isDate = (style ? book.dateStyles[style] : undefined) ?? rowIsDate;
      return isDate ? excelDate(parseFloat(text), book.date1904) : parseFloat(text);
    }
  }
}
