import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { type Readable, Transform } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';
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

/** Everything a readable stream has buffered, each time it has something, until it ends. */
async function* bursts(stream: Readable): AsyncGenerator<string[][]> {
  let ended = false;
  stream.once('end', () => (ended = true));
  for (;;) {
    const records: string[][] = [];
    for (let record = stream.read(); record !== null; record = stream.read()) records.push(record);
    if (records.length > 0) {
      yield records;
      continue;
    }
    if (ended || stream.readableEnded) return;
    const controller = new AbortController();
    await Promise.race([once(stream, 'readable', { signal: controller.signal }), once(stream, 'end', { signal: controller.signal })]).finally(() =>
      controller.abort(),
    );
  }
}

/** Streams a CSV file through csv-parse; malformed records come out as items instead of failing the file. */
export function csvSource(path: string, options: CsvOptions, maxRecordBytes: number): RowSource {
  const delimiter = options.delimiter ?? detectDelimiter(readHead(path, options.encoding), options.quote);
  let bytesRead = 0;
  const messages = {
    format: 'CSV',
    delimiter: delimiter === '\t' ? '\\t' : delimiter,
    encoding: options.encoding,
    header: String(options.header),
  };

  async function* items(): AsyncGenerator<SourceItem[]> {
    // Skipped records are numbered by how many records the parser had emitted before them, so row
    // numbers count malformed records too, in file order.
    const skipped: Array<{ afterRecords: number; message: string }> = [];
    const parser = parse({
      bom: true,
      delimiter,
      quote: options.quote,
      escape: options.quote, // a quote inside a quoted field is doubled, as RFC 4180 has it
      relax_column_count: true,
      max_record_size: maxRecordBytes, // an unclosed quote must not gather the rest of the file in memory
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined) => {
        if (error?.code === 'CSV_MAX_RECORD_SIZE') {
          // csv-parse cannot skip past an over-long record (it would drop the rest of the file), so it ends the job.
          const message = `a record is longer than ${maxRecordBytes} bytes (line ${parser.info.lines}); an unclosed quote is the usual cause`;
          parser.destroy(new IngestError('RECORD_TOO_LARGE', message));
          return;
        }
        skipped.push({ afterRecords: parser.info.records, message: error?.message ?? 'malformed record' });
        // After a stray closing quote (`"abc"def`) csv-parse stays inside the quoted field and would swallow
        // the following records up to the next quote; leave the quote so that only this record is lost.
        if (error?.code === 'CSV_INVALID_CLOSING_QUOTE') (parser as unknown as { state: { quoting: boolean } }).state.quoting = false;
      },
    });
    const file = createReadStream(path, { highWaterMark: 256 * 1024 });
    file.on('data', (chunk) => {
      bytesRead += chunk.length;
    });
    file.on('error', (error) => parser.destroy(error));
    (isUtf8(options.encoding) ? file : file.pipe(decoder(options.encoding))).pipe(parser);
    let row = options.header ? 0 : 1; // row 0 is the header
    let emitted = 0;
    try {
      // Records are taken in bursts with read(), not one awaited iteration each: far less overhead per row.
      for await (const records of bursts(parser)) {
        const batch: SourceItem[] = [];
        for (const cells of records) {
          emitted++;
          while (skipped.length > 0 && skipped[0].afterRecords < emitted) batch.push({ kind: 'malformed', row: row++, message: skipped.shift()!.message });
          batch.push({ kind: 'row', row: row++, cells });
        }
        yield batch;
      }
    } catch (error) {
      if (error instanceof IngestError) throw error;
      const lines = (error as { lines?: number }).lines;
      throw new IngestError('PARSE_ERROR', `the file cannot be parsed as CSV${lines ? ` at line ${lines}` : ''}: ${(error as Error).message}`);
    } finally {
      file.destroy();
    }
    if (skipped.length > 0) yield skipped.map((entry) => ({ kind: 'malformed', row: row++, message: entry.message }));
  }

  return { items, bytesRead: () => bytesRead, messages };
}
