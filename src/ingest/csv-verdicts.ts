import { IngestError } from './ingest-error';

// The texts of csv-parse's verdicts on malformed records, word for word: users see them as MALFORMED_ROW
// issues, and a file must read the same whichever parser reads it (csv-tokenizer.ts or csv-parse).

/** The first UTF-8 byte of the character starting with this UTF-16 code unit: csv-parse names a byte, not a character. */
function firstUtf8Byte(code: number): number {
  if (code < 0x80) return code;
  if (code < 0x800) return 0xc0 | (code >> 6);
  if (code >= 0xd800 && code <= 0xdbff) return 0xf0 | ((code - 0xd800 + 0x40) >> 8); // a surrogate pair: a code point past U+FFFF
  return 0xe0 | (code >> 12);
}

/** A closing quote followed by neither a delimiter, a record delimiter nor the end of the file; `next` is the code unit after it. */
export function invalidClosingQuote(next: number, line: number): string {
  const got = String.fromCharCode(firstUtf8Byte(next));
  return `Invalid Closing Quote: got "${got}" at line ${line} instead of delimiter, record delimiter, trimable character (if activated) or comment`;
}

/** A quote inside an unquoted field; `value` is the field up to it. */
export function invalidOpeningQuote(column: number, line: number, value: string): string {
  const bom = value === '\ufeff' ? ' (utf8 bom)' : '';
  return `Invalid Opening Quote: a quote is found on field ${column} at line ${line}, value is ${JSON.stringify(value)}${bom}`;
}

export function quoteNotClosed(line: number): string {
  return `Quote Not Closed: the parsing is finished with an opening quote at line ${line}`;
}

/** A record past the size limit ends the job: skipping it could drop the rest of the file (an unclosed quote). */
export function recordTooLarge(maxRecordBytes: number, line: number): IngestError {
  return new IngestError('RECORD_TOO_LARGE', `a record is longer than ${maxRecordBytes} bytes (line ${line}); an unclosed quote is the usual cause`);
}
