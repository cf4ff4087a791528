import { attribute, elementContent, startTags } from './xlsx-xml';

/**
 * The built-in number formats whose codes (in exceljs's table of defaults) read as dates: 14-22
 * (mm-dd-yy … m/d/yy "h":mm) and 45-47 (mm:ss, [h]:mm:ss, mmss.0). The locale-specific built-ins
 * (27-36, 50-58) have no code in that table, so exceljs reads them as plain numbers.
 */
const BUILT_IN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);

/** exceljs's rule: a format is a date when, without its [bracketed] and "quoted" parts, it holds y, m, d, h, M, s or b. */
export function isDateFormat(code: string): boolean {
  return /[ymdhMsb]/.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/**
 * Which cell styles (the index of `s="…"` in cellXfs) show their number as a date: one entry per
 * style, so that `styles[s] === undefined` says the style does not exist. As exceljs reads them:
 * format 0 (or none) is never a date, a custom format (backslash escapes removed) overrides a built-in.
 */
export function dateStyles(xml: string, part: string): boolean[] {
  const custom = new Map<number, string>();
  for (const tag of startTags(elementContent(xml, 'numFmts'), 'numFmt')) {
    const code = (attribute(tag, 'formatCode', part) ?? '').replace(/[\\](.)/g, '$1');
    custom.set(parseInt(attribute(tag, 'numFmtId', part) ?? '', 10), code);
  }
  return startTags(elementContent(xml, 'cellXfs'), 'xf').map((tag) => {
    const id = parseInt(attribute(tag, 'numFmtId', part) ?? '', 10);
    if (!id) return false;
    const code = custom.get(id);
    return code ? isDateFormat(code) : BUILT_IN_DATE_FORMATS.has(id);
  });
}
