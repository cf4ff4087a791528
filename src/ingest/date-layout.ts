import type { ColumnType } from '../datasets/column-types';

/** The tokens of a layout and the digits each stands for. */
const TOKENS = { YYYY: 4, MM: 2, DD: 2, HH: 2, mm: 2, ss: 2 } as const;
type Token = keyof typeof TOKENS;
const TOKEN = /YYYY|MM|DD|HH|mm|ss/y;
const REQUIRED: Record<'DATE' | 'DATETIME', readonly Token[]> = { DATE: ['YYYY', 'MM', 'DD'], DATETIME: ['YYYY', 'MM', 'DD', 'HH', 'mm'] };
const TIME_TOKENS: readonly Token[] = ['HH', 'mm', 'ss'];
export const MAX_LAYOUT_LENGTH = 64;

/** The parts of a date read from a text by a layout: two-digit fields as numbers, absent ones as 0. */
export interface DateParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

/** A compiled layout: reads a text into its parts, or null when the text does not follow the layout. */
export interface DateLayout {
  readonly text: string;
  read(text: string): DateParts | null;
}

function escapeLiteral(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

/**
 * Compiles a layout such as `DD/MM/YYYY` or `MM/DD/YYYY HH:mm` (tokens YYYY MM DD HH mm ss, each
 * fixed-width digits; anything else but letters is a literal separator, and `T`). Throws an Error
 * saying what is wrong with a layout that cannot be used for `type`.
 */
export function compileDateLayout(layout: string, type: ColumnType): DateLayout {
  if (type !== 'DATE' && type !== 'DATETIME') throw new Error(`format applies to DATE and DATETIME columns, not ${type}`);
  if (layout.length === 0 || layout.length > MAX_LAYOUT_LENGTH) throw new Error(`format must have 1 to ${MAX_LAYOUT_LENGTH} characters`);
  const order: Token[] = [];
  let source = '^';
  for (let i = 0; i < layout.length; ) {
    TOKEN.lastIndex = i;
    const token = TOKEN.exec(layout)?.[0] as Token | undefined;
    if (token) {
      if (order.includes(token)) throw new Error(`format "${layout}" has ${token} twice`);
      order.push(token);
      source += `(\\d{${TOKENS[token]}})`;
      i += token.length;
      continue;
    }
    const char = layout[i];
    if (/\p{L}/u.test(char) && char !== 'T') throw new Error(`format "${layout}" has "${char}", which is not a token (YYYY, MM, DD, HH, mm, ss) or a separator`);
    source += escapeLiteral(char);
    i++;
  }
  checkTokens(layout, type, order);
  return { text: layout, read: reader(new RegExp(`${source}$`, 'u'), order) };
}

function checkTokens(layout: string, type: 'DATE' | 'DATETIME', order: readonly Token[]): void {
  const missing = REQUIRED[type].filter((token) => !order.includes(token));
  if (missing.length > 0) throw new Error(`format "${layout}" lacks ${missing.join(', ')}, which a ${type} needs`);
  if (order.includes('ss') && !order.includes('mm')) throw new Error(`format "${layout}" has seconds (ss) but no minutes (mm)`);
  if (type === 'DATE' && order.some((token) => TIME_TOKENS.includes(token))) throw new Error(`format "${layout}" has a time of day, which a DATE does not keep: use DATETIME`);
}

function reader(pattern: RegExp, order: readonly Token[]): (text: string) => DateParts | null {
  const at = (token: Token) => order.indexOf(token) + 1;
  const [year, month, day, hour, minute, second] = (['YYYY', 'MM', 'DD', 'HH', 'mm', 'ss'] as const).map(at);
  return (text) => {
    const match = pattern.exec(text);
    if (!match) return null;
    const part = (index: number) => (index === 0 ? '00' : match[index]);
    return { year: match[year], month: match[month], day: match[day], hour: part(hour), minute: part(minute), second: part(second) };
  };
}
