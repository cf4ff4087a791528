import { csvParseParser } from '../../src/ingest/csv-parse-reader';
import { CsvTokenizer } from '../../src/ingest/csv-tokenizer';

/** How a file is read: the parser options csvSource sets. */
export interface ReadOptions {
  delimiter: string;
  quote: string;
  bom: boolean;
  maxRecordBytes: number;
}

/** What a parser made of a file: records, where records end (by record index), skipped records, and the failure that ended it. */
export interface Outcome {
  records: string[][];
  ends: Map<number, number>;
  skipped: Array<[afterRecords: number, message: string]>;
  failure: string | null;
}

/** `bytes` cut at `cuts` (increasing offsets inside it). */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const bounds = [0, ...cuts, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

/** The reference: csv-parse as csvSource sets it up, fed the chunks; every record's end is noted as it is pushed. */
async function readWithCsvParse(chunks: readonly Buffer[], options: ReadOptions): Promise<Outcome> {
  const outcome: Outcome = { records: [], ends: new Map(), skipped: [], failure: null };
  const parser = csvParseParser({ ...options, onSkipped: (after, message) => outcome.skipped.push([after, message]) });
  const push = parser.push.bind(parser);
  parser.push = (record: unknown, encoding?: BufferEncoding) => {
    const more = push(record, encoding);
    if (record !== null) outcome.ends.set(outcome.ends.size, parser.lastRecordEnd);
    return more;
  };
  parser.on('data', (record: string[]) => outcome.records.push(record));
  const done = new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.on('error', (error) => resolve(void (outcome.failure = error.message)));
  });
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  await done;
  return outcome;
}

/** The tokenizer fed the same chunks; the end it gives after each chunk is that of the last record it has given. */
export function readWithTokenizer(chunks: readonly Buffer[], options: ReadOptions): Outcome {
  const outcome: Outcome = { records: [], ends: new Map(), skipped: [], failure: null };
  const tokenizer = new CsvTokenizer({ ...options, onSkipped: (after, message) => outcome.skipped.push([after, message]) });
  const take = () => {
    const burst = tokenizer.take();
    outcome.records.push(...burst.records);
    if (burst.records.length > 0) outcome.ends.set(outcome.records.length - 1, burst.end);
  };
  try {
    for (const chunk of chunks) {
      tokenizer.push(chunk);
      take();
    }
    tokenizer.end();
    take();
  } catch (error) {
    outcome.failure = (error as Error).message;
  }
  return outcome;
}

/**
 * Where the tokenizer's outcome differs from the reference, or null. After a failure only the failure
 * is compared: the records parsed before it are not kept (the job fails).
 */
export function difference(actual: Outcome, expected: Outcome): string | null {
  if (actual.failure !== expected.failure) return `failure: ${actual.failure} instead of ${expected.failure}`;
  if (expected.failure !== null) return null;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(actual.records, expected.records)) return `records: ${JSON.stringify(actual.records)} instead of ${JSON.stringify(expected.records)}`;
  if (!same(actual.skipped, expected.skipped)) return `skipped: ${JSON.stringify(actual.skipped)} instead of ${JSON.stringify(expected.skipped)}`;
  for (const [index, end] of actual.ends) {
    if (expected.ends.get(index) !== end) return `record ${index} ends at ${end} instead of ${expected.ends.get(index)}`;
  }
  return null;
}

/**
 * The ways a file is cut into chunks for one comparison: whole, one byte at a time, at random, and cut
 * once at every offset inside a multi-byte character (at every offset at all when the file is short).
 */
function chunkings(bytes: Buffer, random: () => number, everyCutUpTo = 48): number[][] {
  const offsets = Array.from({ length: Math.max(0, bytes.length - 1) }, (_, i) => i + 1);
  const single = bytes.length <= everyCutUpTo ? offsets : offsets.filter((offset) => (bytes[offset] & 0xc0) === 0x80);
  const randomCuts = offsets.filter(() => random() < 0.2);
  return [[], offsets, randomCuts, ...single.map((offset) => [offset])];
}

/** What comparing one file gave: how many tokenizer reads, and the first that differs from the reference (with its cuts). */
export interface Comparison {
  reads: number;
  mismatch: { cuts: number[]; diff: string } | null;
}

/** Reads `bytes` with csv-parse once (cut at random), then with the tokenizer in every chunking of chunkings(), until one differs. */
export async function compareReads(bytes: Buffer, options: ReadOptions, random: () => number): Promise<Comparison> {
  const cuttings = chunkings(bytes, random);
  const expected = await readWithCsvParse(chunked(bytes, cuttings[2]), options);
  let reads = 0;
  for (const cuts of cuttings) {
    reads++;
    const diff = difference(readWithTokenizer(chunked(bytes, cuts), options), expected);
    if (diff !== null) return { reads, mismatch: { cuts, diff } };
  }
  return { reads, mismatch: null };
}
