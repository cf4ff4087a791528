import type { CellValue, ColumnType } from '../datasets/column-types';
import type { DateLayout } from './date-layout';

/** A cell as a parser delivers it: CSV gives strings, XLSX typed values. */
export type RawCell = string | number | boolean | Date | null | undefined;

/** Sentinel for a value that does not parse as the column's type. */
export const MISMATCH = Symbol('type mismatch');

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
// The WHATWG HTML form's email rule, with a dot required in the domain.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

/** Whether a cell holds nothing: absent, empty, or only white space. */
export function isBlank(cell: RawCell): boolean {
  return cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === '');
}

/** The texts a job reads as empty, trimmed as cells are compared; null when it has none. */
export function nullValueSet(nullValues: readonly string[]): ReadonlySet<string> | null {
  return nullValues.length === 0 ? null : new Set(nullValues.map((text) => text.trim()));
}

/** Whether a cell is read as empty: blank, or a text the job lists as a null value. */
export function readsAsEmpty(cell: RawCell, nullValues: ReadonlySet<string> | null): boolean {
  return isBlank(cell) || (nullValues !== null && typeof cell === 'string' && nullValues.has(cell.trim()));
}

export function cellText(cell: RawCell): string {
  if (cell instanceof Date) return cell.toISOString();
  return cell === null || cell === undefined ? '' : String(cell);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isCalendarDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]);
}

function parseDateTime(text: string): string | typeof MISMATCH {
  const match = DATETIME.exec(text);
  if (!match || !isCalendarDate(match[1], match[2], match[3])) return MISMATCH;
  if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6] ?? 0) > 59) return MISMATCH;
  const zoned = match[7] ? text : `${text}Z`; // no zone given: the value is taken as UTC
  const millis = Date.parse(zoned.replace(' ', 'T'));
  return Number.isNaN(millis) ? MISMATCH : new Date(millis).toISOString();
}

/** A text cell (or a number: `20240131` in an XLSX cell) read with a column's layout, to the stored ISO value. */
function fromLayout(type: 'DATE' | 'DATETIME', cell: string | number, layout: DateLayout): string | typeof MISMATCH {
  const parts = layout.read(String(cell).trim());
  if (!parts) return MISMATCH;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  if (type === 'DATETIME') return parseDateTime(`${date}T${parts.hour}:${parts.minute}:${parts.second}`);
  return isCalendarDate(parts.year, parts.month, parts.day) ? date : MISMATCH;
}

/** Converts a non-blank cell to the stored value of a column type, or MISMATCH; a DATE or DATETIME text is read with `layout` when the column has one. */
export function toColumnValue(type: ColumnType, cell: Exclude<RawCell, null | undefined>, layout: DateLayout | null = null): CellValue | typeof MISMATCH {
  if (layout && (type === 'DATE' || type === 'DATETIME') && (typeof cell === 'string' || typeof cell === 'number')) return fromLayout(type, cell, layout);
  switch (type) {
    case 'STRING':
      return cellText(cell);
    case 'INTEGER':
      if (typeof cell === 'number') return Number.isSafeInteger(cell) ? cell : MISMATCH;
      if (typeof cell === 'string' && INTEGER.test(cell.trim())) {
        const value = Number(cell);
        return Number.isSafeInteger(value) ? value : MISMATCH;
      }
      return MISMATCH;
    case 'DECIMAL':
      if (typeof cell === 'number') return Number.isFinite(cell) ? cell : MISMATCH;
      if (typeof cell === 'string' && DECIMAL.test(cell.trim())) {
        const value = Number(cell);
        return Number.isFinite(value) ? value : MISMATCH;
      }
      return MISMATCH;
    case 'BOOLEAN': {
      if (typeof cell === 'boolean') return cell ? 1 : 0;
      if (cell instanceof Date) return MISMATCH;
      const text = String(cell).trim().toLowerCase();
      if (TRUE.has(text)) return 1;
      if (FALSE.has(text)) return 0;
      return MISMATCH;
    }
    case 'DATE': {
      // A spreadsheet date is a Date at midnight UTC; one with a time of day is a DATETIME.
      if (cell instanceof Date) return Number.isNaN(cell.getTime()) || cell.getTime() % 86_400_000 !== 0 ? MISMATCH : cell.toISOString().slice(0, 10);
      if (typeof cell !== 'string') return MISMATCH;
      const text = cell.trim();
      const match = DATE.exec(text);
      return match && isCalendarDate(match[1], match[2], match[3]) ? text : MISMATCH;
    }
    case 'DATETIME':
      if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? MISMATCH : cell.toISOString();
      return typeof cell === 'string' ? parseDateTime(cell.trim()) : MISMATCH;
    case 'EMAIL': {
      if (typeof cell !== 'string') return MISMATCH;
      const text = cell.trim();
      return text.length <= 254 && EMAIL.test(text) ? text : MISMATCH;
    }
  }
}

/** About how much memory a row's cells take (text at two bytes a character): enough to bound batches and bursts by size, not only by rows. */
export function approxBytes(cells: readonly unknown[]): number {
  let bytes = 8 * cells.length;
  for (const cell of cells) if (typeof cell === 'string') bytes += 2 * cell.length;
  return bytes;
}
