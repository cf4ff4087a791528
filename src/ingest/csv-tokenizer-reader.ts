import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { type CsvFormat, READ_CHUNK_BYTES, type RecordReader } from './csv-record-reader';
import { CsvTokenizer } from './csv-tokenizer';
import { utf8Guard } from './text-guard';

const ASCII_CHARACTER = /^[\x00-\x7f]$/;

/** Whether the tokenizer reads this format: UTF-8, and a delimiter and quote of one ASCII character, distinct, neither CR nor LF. */
export function fitsTokenizer(format: CsvFormat): boolean {
  const { delimiter, quote } = format;
  const single = (character: string) => ASCII_CHARACTER.test(character) && character !== '\r' && character !== '\n';
  return format.seekable && format.dropLines === 0 && single(delimiter) && single(quote) && delimiter !== quote;
}

/** Sluice's own tokenizer (csv-tokenizer.ts): csv-parse's records for the formats it fits, a chunk at a time. */
export const tokenizerReader: RecordReader = {
  name: 'sluice',
  async *read({ path, start, options, onRead }) {
    const file = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES, start });
    // Bytes are checked (binary, invalid sequences) before they are parsed; a failure of either stream ends the iteration.
    const text = pipeline(file, utf8Guard(start), () => {});
    const tokenizer = new CsvTokenizer(options);
    for await (const chunk of text) {
      onRead((chunk as Buffer).length);
      tokenizer.push(chunk as Buffer);
      const burst = tokenizer.take();
      if (burst.records.length > 0) yield burst;
    }
    tokenizer.end();
    const last = tokenizer.take();
    if (last.records.length > 0) yield last;
  },
};
