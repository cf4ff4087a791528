import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { type CsvError, Parser } from 'csv-parse';
import { type ParserOptions, READ_CHUNK_BYTES, type RecordBurst, type RecordReader, type RecordReading } from './csv-record-reader';
import { recordTooLarge } from './csv-verdicts';
import { dropLines } from './skip-lines';
import { decodingGuard, utf8Guard } from './text-guard';

/**
 * csv-parse's parser, noting where in its input the last record it emitted ends. Read right after
 * the parser's queue is drained, that is where the records read so far end: a resumable position.
 */
class RecordEndParser extends Parser {
  lastRecordEnd = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null) this.lastRecordEnd = this.info.bytes;
    return super.push(chunk, encoding);
  }
}

/** Every record the parser has ready, each time it has some, with where the last of them ends; until the parser ends. */
async function* bursts(parser: RecordEndParser): AsyncGenerator<RecordBurst> {
  let ended = false;
  let failure: Error | null = null;
  parser.once('end', () => (ended = true));
  // The file is piped into the parser, so it can fail while this generator waits on its consumer:
  // kept here, the failure is thrown at the next turn instead of being an uncaught 'error'.
  parser.on('error', (error) => (failure ??= error));
  for (;;) {
    if (failure) throw failure;
    const records: string[][] = [];
    for (let record = parser.read(); record !== null; record = parser.read()) records.push(record);
    // Taken now, before anything (a nextTick resuming the file stream) lets the parser push more.
    const end = parser.lastRecordEnd;
    if (records.length > 0) {
      yield { records, end };
      continue;
    }
    if (ended || parser.readableEnded) return;
    const controller = new AbortController();
    await Promise.race([once(parser, 'readable', { signal: controller.signal }), once(parser, 'end', { signal: controller.signal })]).finally(() =>
      controller.abort(),
    );
  }
}

/** What of csv-parse's parsing state the reader reads or sets (not in its types). */
function stateOf(parser: RecordEndParser): { record: unknown; quoting: boolean } {
  return (parser as unknown as { state: { record: unknown; quoting: boolean } }).state;
}

/** csv-parse, set up as Sluice reads CSV; the malformed records are skipped and reported, each once. */
export function csvParseParser(options: ParserOptions): RecordEndParser {
  // csv-parse calls on_skip for every fault of a record; the record it builds is a new array for each record.
  let lastReported: unknown = null;
  const parser = new RecordEndParser({
    bom: options.bom,
    delimiter: options.delimiter,
    quote: options.quote,
    escape: options.quote, // a quote inside a quoted field is doubled, as RFC 4180 has it
    relax_column_count: true,
    max_record_size: options.maxRecordBytes, // an unclosed quote must not gather the rest of the file in memory
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined) => {
      if (error?.code === 'CSV_MAX_RECORD_SIZE') {
        // csv-parse cannot skip past an over-long record (it would drop the rest of the file), so it ends the job.
        parser.destroy(recordTooLarge(options.maxRecordBytes, parser.info.lines));
        return;
      }
      const { record } = stateOf(parser);
      if (record !== lastReported) options.onSkipped(parser.info.records, error?.message ?? 'malformed record');
      lastReported = record;
      // After a stray closing quote (`"abc"def`) csv-parse stays inside the quoted field and would swallow
      // the following records up to the next quote; leave the quote so that only this record is lost.
      if (error?.code === 'CSV_INVALID_CLOSING_QUOTE') stateOf(parser).quoting = false;
    },
  });
  return parser;
}

/** Streams the file from byte `start` into `parser` (without the lines `format` drops), reporting each chunk's size; returns what stops it. */
function feedParser(parser: RecordEndParser, { path, start, format, onRead }: RecordReading): () => void {
  const file = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES, start });
  file.on('data', (chunk) => onRead(chunk.length));
  // Text is checked (binary, invalid sequences) on its way to the parser; other encodings are decoded there too.
  const guard = format.seekable ? utf8Guard(start) : decodingGuard(format.encoding, start);
  // Lines skipped in a file that is not seekable go here, once decoded: their line ends are only known in the text.
  const text = format.dropLines > 0 ? guard.pipe(dropLines(format.dropLines)) : guard;
  file.on('error', (error) => parser.destroy(error));
  guard.on('error', (error) => parser.destroy(error));
  file.pipe(guard);
  text.pipe(parser);
  return () => {
    file.destroy();
    guard.destroy();
    text.destroy();
  };
}

/** csv-parse: every format (any encoding, multi-character delimiters and quotes); 5 µs of CPU a row. */
export const csvParseReader: RecordReader = {
  name: 'csv-parse',
  async *read(reading) {
    const parser = csvParseParser(reading.options);
    const stopReading = feedParser(parser, reading);
    try {
      // Records are taken in bursts with read(), not one awaited iteration each: far less overhead per row.
      yield* bursts(parser);
    } finally {
      stopReading();
    }
  },
};
