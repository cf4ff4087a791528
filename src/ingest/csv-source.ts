import { closeSync, openSync, readSync } from 'node:fs';
import type { CsvOptions } from '../jobs/model';
import { csvParseReader } from './csv-parse-reader';
import type { CsvFormat, RecordReader } from './csv-record-reader';
import { fitsTokenizer, tokenizerReader } from './csv-tokenizer-reader';
import { isStorageFault } from './storage-fault';
import { checkWidth, type FileLimits, type RowSource, type SourceBurst, type SourceItem, type SourcePosition, START } from './source';
import { IngestError } from './ingest-error';
import { decodedHeadAfter, lineStart } from './skip-lines';

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

/** The encoding a byte order mark announces: a BOM is unambiguous, so it wins over the declared (or default) encoding. */
function bomEncoding(head: Buffer): string | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return null;
}

function readHead(path: string, start = 0): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, SNIFF_BYTES, start));
  } finally {
    closeSync(fd);
  }
}

type SkipPlan = Pick<CsvFormat, 'origin' | 'dropLines'>;

/**
 * How the first `skipRows` lines are skipped. In a seekable (UTF-8) file they are found in its bytes,
 * so that record offsets stay the file's own; in other encodings a line end can only be told in the
 * decoded text (a UTF-16 LF is two bytes, and a 0x0A byte may be half of another character).
 */
async function skipPlan(path: string, seekable: boolean, skipRows: number): Promise<SkipPlan> {
  if (skipRows === 0) return { origin: 0, dropLines: 0 };
  return seekable ? { origin: await lineStart(path, skipRows), dropLines: 0 } : { origin: 0, dropLines: skipRows };
}

/** The text the delimiter is detected on: the file's head from its header line (its first line after the skipped ones). */
async function headerHead(path: string, encoding: string, head: Buffer, skip: SkipPlan): Promise<string> {
  if (skip.dropLines > 0) return decodedHeadAfter(path, encoding, skip.dropLines, SNIFF_BYTES);
  return new TextDecoder(encoding).decode(skip.origin > 0 ? readHead(path, skip.origin) : head);
}

/** The format, from the options and what the file's first bytes show; the first `skipRows` lines are not records. */
async function sniffFormat(path: string, options: CsvOptions, skipRows: number): Promise<CsvFormat> {
  const head = readHead(path);
  const encoding = bomEncoding(head) ?? options.encoding;
  const seekable = isUtf8(encoding);
  const skip = await skipPlan(path, seekable, skipRows);
  const delimiter = options.delimiter ?? detectDelimiter(await headerHead(path, encoding, head, skip), options.quote);
  return { encoding, delimiter, quote: options.quote, seekable, ...skip };
}

/**
 * Numbers one reader's items. Skipped records are noted with how many records the parser had emitted
 * before them, so row numbers count malformed records too, in file order.
 */
class RowNumbering {
  private readonly skipped: Array<{ afterRecords: number; message: string }> = [];
  private emitted = 0;

  constructor(
    private row: number,
    private readonly maxColumns: number,
  ) {}

  get nextRow(): number {
    return this.row;
  }

  noteSkipped(afterRecords: number, message: string): void {
    this.skipped.push({ afterRecords, message });
  }

  /** A burst of records as items, each after the malformed records skipped before it. */
  items(records: string[][]): SourceItem[] {
    const items: SourceItem[] = [];
    for (const cells of records) {
      this.emitted++;
      while (this.skipped.length > 0 && this.skipped[0].afterRecords < this.emitted) items.push(this.malformed(this.skipped.shift()!.message));
      checkWidth(cells.length, this.row, this.maxColumns);
      items.push({ kind: 'row', row: this.row++, cells });
    }
    return items;
  }

  /** The malformed records skipped after the last record. */
  trailingSkipped(): SourceItem[] {
    return this.skipped.splice(0).map((entry) => this.malformed(entry.message));
  }

  private malformed(message: string): SourceItem {
    return { kind: 'malformed', row: this.row++, message };
  }
}

/** The tokenizer where the format fits it, csv-parse otherwise (another encoding, a delimiter or quote of several characters). */
function recordReaderFor(format: CsvFormat): RecordReader {
  return fitsTokenizer(format) ? tokenizerReader : csvParseReader;
}

/** What reading fails with: our own errors and storage faults as they are, anything else from the parser as PARSE_ERROR. */
function parseFailure(error: unknown): unknown {
  if (error instanceof IngestError || isStorageFault(error)) return error;
  const lines = (error as { lines?: number }).lines;
  return new IngestError('PARSE_ERROR', `the file cannot be parsed as CSV${lines ? ` at line ${lines}` : ''}: ${(error as Error).message}`);
}

/**
 * Streams a CSV file through Sluice's tokenizer, or csv-parse where the format needs it (see
 * recordReaderFor); malformed records come out as items instead of failing the file. UTF-8 files
 * resume by seeking to a record's byte offset; files in another encoding (decoded before parsing,
 * so the parser's offsets are not the file's) resume by re-reading and skipping.
 * The first `skipRows` lines (a title, a generated-at line…) are skipped as raw text before any record.
 */
export async function csvSource(path: string, options: CsvOptions, skipRows: number, limits: FileLimits): Promise<RowSource> {
  const format = await sniffFormat(path, options, skipRows);
  const recordReader = recordReaderFor(format);
  let bytesRead = 0;
  const messages = {
    format: 'CSV',
    delimiter: format.delimiter === '\t' ? '\\t' : format.delimiter,
    encoding: format.encoding,
    header: String(options.header),
    // Which parser reads the file, for the job's messages (no logger reaches here).
    parser: recordReader.name,
  };

  /** The records from byte `start` (a record boundary) on, numbered from `firstRow`. */
  async function* records(start: number, firstRow: number): AsyncGenerator<SourceBurst> {
    const numbering = new RowNumbering(firstRow, limits.maxColumns);
    const parserOptions = {
      delimiter: format.delimiter,
      quote: format.quote,
      bom: start === 0,
      maxRecordBytes: limits.maxRecordBytes,
      onSkipped: (afterRecords: number, message: string) => numbering.noteSkipped(afterRecords, message),
    };
    bytesRead = start;
    try {
      for await (const burst of recordReader.read({ path, start, format, options: parserOptions, onRead: (bytes) => (bytesRead += bytes) })) {
        const items = numbering.items(burst.records);
        yield { items, after: { nextRow: numbering.nextRow, byteOffset: format.seekable ? start + burst.end : null } };
      }
    } catch (error) {
      throw parseFailure(error);
    }
    const trailing = numbering.trailingSkipped();
    if (trailing.length > 0) yield { items: trailing, after: { nextRow: numbering.nextRow, byteOffset: format.seekable ? bytesRead : null } };
  }

  /** The first record of the file (after the skipped lines): the header, for a reader that resumes past it. */
  async function header(): Promise<SourceItem[]> {
    const reader = records(format.origin, 0)[Symbol.asyncIterator]();
    const first = await reader.next();
    await reader.return(undefined);
    return first.done ? [] : first.value.items.slice(0, 1);
  }

  async function* items(from: SourcePosition = START): AsyncGenerator<SourceBurst> {
    if (from.byteOffset !== null) {
      if (options.header) yield { items: await header(), after: from };
      yield* records(from.byteOffset, from.nextRow);
      return;
    }
    for await (const burst of records(format.origin, options.header ? 0 : 1)) {
      // Re-reading to resume: the header stays, records before the position are skipped.
      if (from.nextRow > 1) burst.items = burst.items.filter((item) => item.row === 0 || item.row >= from.nextRow);
      yield burst;
    }
  }

  return { items, bytesRead: () => bytesRead, messages };
}
