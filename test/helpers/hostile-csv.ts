import { randomBytes } from 'node:crypto';
import { csvText } from './files';

// Hostile CSV files, generated at test time: the end-to-end suite checks that each ends its job with a
// typed code; the tokenizer's differential suite checks that the tokenizer reads each as csv-parse does.

/** A 10 MB line between two good rows. */
export const longLineCsv = () => `id,name\n1,one\n2,${'x'.repeat(10 * 1024 * 1024)}\n3,three\n`;

/** A quote opened on row 3 and never closed, with 100,000 rows after it: well past 1 MiB. */
export const unclosedQuoteCsv = () => csvText('id,name', '1,one', '2,two', '3,"never closed', ...Array.from({ length: 100_000 }, (_, i) => `${i + 4},name ${i + 4}`));

/** A quote opened on row 2 and never closed, in a short file. */
export const unclosedShortCsv = () => csvText('id,name', '1,one', '2,"never closed', '3,three');

/** Binary content uploaded as CSV. */
export const BINARY_CSV: Array<[what: string, content: () => Buffer]> = [
  ['random bytes', () => randomBytes(256 * 1024)],
  ['a PNG image', () => Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(4096)])],
  ['text with a NUL byte', () => Buffer.from('id,name\n1,on\u0000e\n')],
];

/** windows-1252 text ('café'), which is not valid UTF-8. */
export const latin1Csv = () => Buffer.from('id,name\n1,one\n2,caf\xe9\n', 'latin1');

/** A header of 10,000 columns and one row. */
export function wideCsv(): string {
  const header = Array.from({ length: 10_000 }, (_, c) => `c${c}`);
  return csvText(header.join(','), header.map((_, c) => c).join(','));
}
