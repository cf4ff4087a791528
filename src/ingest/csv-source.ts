import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Transform } from 'node:stream';
import { type CsvError, type Options, parse } from 'csv-parse';
import type { CsvOptions } from '../jobs/model';
import { IngestError, type RowSource, type SourceItem } from './source';

const CANDIDATE_DELIMITERS = [',', ';', '\t', '|'];
const SNIFF_BYTES = 64 * 1024;

function isUtf8(encoding: string): boolean {
  return /^utf-?8$/i.test(encoding);
}

/** The candidate delimiter found most often outside quotes on the first line; a comma when none is. */
export function detectDelimiter(sample: string, quote: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const char of sample) {
    if (char === quote) quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && CANDIDATE_DELIMITERS.includes(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const [delimiter, count] of counts) {
    if (count > bestCount) [best, bestCount] = [delimiter, count];
  }
  return best;
}

function readHead(path: string, encoding: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const length = readSync(fd, buffer, 0, SNIFF_BYTES, 0);
    return new TextDecoder(encoding).decode(buffer.subarray(0, length));
  } finally {
    closeSync(fd);
  }
}

/** Decodes a declared non-UTF-8 encoding to text in a streaming way (a character may span chunks). */
function decoder(encoding: string): Transform {
  const textDecoder = new TextDecoder(encoding);
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding, done) {
      done(null, textDecoder.decode(chunk, { stream: true }));
    },
    flush(done) {
      done(null, textDecoder.decode());
    },
  });
}

/** Streams a CSV file through csv-parse; malformed records come out as items instead of failing the file. */
export function csvSource(path: string, options: CsvOptions): RowSource {
  const delimiter = options.delimiter ?? detectDelimiter(readHead(path, options.encoding), options.quote);
  let bytesRead = 0;
  const messages = {
    format: 'CSV',
    delimiter: delimiter === '\t' ? '\\t' : delimiter,
    encoding: options.encoding,
    header: String(options.header),
  };

  async function* items(): AsyncGenerator<SourceItem> {
    const firstRow = options.header ? 0 : 1; // row 0 is the header
    let recordIndex = 0;
    // on_record and on_skip run in file order, so row numbers count skipped records too.
    const skipped: Array<{ row: number; message: string }> = [];
    const parserOptions: Options<{ row: number; cells: string[] }, string[]> = {
      bom: true,
      delimiter,
      quote: options.quote,
      escape: options.quote, // a quote inside a quoted field is doubled, as RFC 4180 has it
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_record: (cells: string[]) => ({ row: recordIndex++ + firstRow, cells }),
      on_skip: (error: CsvError | undefined) => {
        skipped.push({ row: recordIndex++ + firstRow, message: error?.message ?? 'malformed record' });
      },
    };
    const parser = parse(parserOptions as unknown as Options);
    const file = createReadStream(path, { highWaterMark: 256 * 1024 });
    file.on('data', (chunk) => {
      bytesRead += chunk.length;
    });
    file.on('error', (error) => parser.destroy(error));
    (isUtf8(options.encoding) ? file : file.pipe(decoder(options.encoding))).pipe(parser);
    try {
      for await (const record of parser as AsyncIterable<{ row: number; cells: string[] }>) {
        while (skipped.length > 0 && skipped[0].row < record.row) yield { kind: 'malformed', ...skipped.shift()! };
        yield { kind: 'row', row: record.row, cells: record.cells };
      }
    } catch (error) {
      const lines = (error as { lines?: number }).lines;
      throw new IngestError('PARSE_ERROR', `the file cannot be parsed as CSV${lines ? ` at line ${lines}` : ''}: ${(error as Error).message}`);
    } finally {
      file.destroy();
    }
    for (const entry of skipped) yield { kind: 'malformed', ...entry };
  }

  return { items, bytesRead: () => bytesRead, messages };
}
