import { describe, expect, it } from 'vitest';
import { csvParseReader } from '../../src/ingest/csv-parse-reader';
import type { CsvFormat, RecordReader } from '../../src/ingest/csv-record-reader';
import { tokenizerReader } from '../../src/ingest/csv-tokenizer-reader';
import { corpusFile, seededRandom } from '../helpers/csv-corpus';
import { compareReads, difference, type Outcome, readWithTokenizer } from '../helpers/csv-differential';
import { writeText } from '../helpers/files';
import { BINARY_CSV, latin1Csv, longLineCsv, unclosedQuoteCsv, unclosedShortCsv, wideCsv } from '../helpers/hostile-csv';

// The tokenizer must read every file as csv-parse (set up as csvSource sets it) does: the same records,
// the same skipped records with the same messages after the same records, the same record ends, the
// same failures; however the file's bytes are cut into chunks.

const RFC = { delimiter: ',', quote: '"', bom: true, maxRecordBytes: 1024 * 1024 };

/** csv-spectrum's cases (github.com/max-mapper/csv-spectrum), with the records every RFC 4180 parser must give. */
const SPECTRUM: Array<[name: string, text: string, records: string[][]]> = [
  ['comma_in_quotes', 'first,last,address,city,zip\r\nJohn,Doe,120 any st.,"Anytown, WW",08123\r\n', [['first', 'last', 'address', 'city', 'zip'], ['John', 'Doe', '120 any st.', 'Anytown, WW', '08123']]],
  ['empty', 'a,b,c\n1,"",""\n2,3,4\n', [['a', 'b', 'c'], ['1', '', ''], ['2', '3', '4']]],
  ['empty_crlf', 'a,b,c\r\n1,"",""\r\n2,3,4\r\n', [['a', 'b', 'c'], ['1', '', ''], ['2', '3', '4']]],
  ['escaped_quotes', 'a,b\n1,"ha ""ha"" ha"\n3,4\n', [['a', 'b'], ['1', 'ha "ha" ha'], ['3', '4']]],
  ['json', 'key,val\n1,"{""type"": ""Point"", ""coordinates"": [102.0, 0.5]}"\n', [['key', 'val'], ['1', '{"type": "Point", "coordinates": [102.0, 0.5]}']]],
  ['location_coordinates', 'Contact Phone Number,Cities,Latitude,Longitude\n(555) 555-5555,"Washington, DC",38.8951118,-77.0363658\n', [['Contact Phone Number', 'Cities', 'Latitude', 'Longitude'], ['(555) 555-5555', 'Washington, DC', '38.8951118', '-77.0363658']]],
  ['newlines', 'a,b,c\n1,2,3\n"Once upon \na time",5,6\n7,8,9\n', [['a', 'b', 'c'], ['1', '2', '3'], ['Once upon \na time', '5', '6'], ['7', '8', '9']]],
  ['newlines_crlf', 'a,b,c\r\n1,2,3\r\n"Once upon \r\na time",5,6\r\n7,8,9\r\n', [['a', 'b', 'c'], ['1', '2', '3'], ['Once upon \r\na time', '5', '6'], ['7', '8', '9']]],
  ['quotes_and_newlines', 'a,b\n1,"ha \n""ha"" \nha"\n3,4\n', [['a', 'b'], ['1', 'ha \n"ha" \nha'], ['3', '4']]],
  ['simple', 'a,b,c\n1,2,3\n', [['a', 'b', 'c'], ['1', '2', '3']]],
  ['simple_crlf', 'a,b,c\r\n1,2,3\r\n', [['a', 'b', 'c'], ['1', '2', '3']]],
  ['utf8', 'a,b,c\n1,2,3\n4,5,ʤ\n', [['a', 'b', 'c'], ['1', '2', '3'], ['4', '5', 'ʤ']]],
];

describe('the CSV tokenizer reads as csv-parse does', () => {
  it.each(SPECTRUM)('csv-spectrum %s, in every chunking', async (_name, text, records) => {
    const bytes = Buffer.from(text);
    expect(readWithTokenizer([bytes], RFC).records).toEqual(records);
    expect((await compareReads(bytes, RFC, seededRandom(text.length))).mismatch).toBeNull();
  });

  it('a generated corpus of 6,000 small hostile files, each in many chunkings (every cut inside a multi-byte character)', async () => {
    const seed = 20_241_201;
    let reads = 0;
    for (let index = 0; index < 6_000; index++) {
      const file = corpusFile(seed, index);
      const { reads: fileReads, mismatch } = await compareReads(file.bytes, file.options, seededRandom(seed + index));
      expect(mismatch, `file ${index} of seed ${seed}: ${JSON.stringify(file.bytes.toString())} ${JSON.stringify(file.options)}`).toBeNull();
      reads += fileReads;
    }
    expect(reads).toBeGreaterThan(100_000);
  });
});

/** Everything a reader gives for a file on disk: records, record ends, skipped records; or how it failed. */
async function readThrough(reader: RecordReader, path: string, maxRecordBytes: number): Promise<Outcome & { code?: string }> {
  const outcome: Outcome & { code?: string } = { records: [], ends: new Map(), skipped: [], failure: null };
  const format: CsvFormat = { encoding: 'utf-8', delimiter: ',', quote: '"', seekable: true, origin: 0, dropLines: 0 };
  const options = { ...RFC, maxRecordBytes, onSkipped: (after: number, message: string) => outcome.skipped.push([after, message]) };
  try {
    for await (const burst of reader.read({ path, start: 0, format, options, onRead: () => {} })) {
      outcome.records.push(...burst.records);
      outcome.ends.set(outcome.records.length - 1, burst.end);
    }
  } catch (error) {
    outcome.failure = (error as Error).message;
    outcome.code = (error as { code?: string }).code;
  }
  return outcome;
}

describe('the tokenizer reader reads the hostile files as the csv-parse reader does', () => {
  it.each<[string, () => string | Buffer, string | null]>([
    ['a 10 MB line', longLineCsv, 'RECORD_TOO_LARGE'],
    ['an unclosed quote past 1 MiB', unclosedQuoteCsv, 'RECORD_TOO_LARGE'],
    ['a short unclosed quote', unclosedShortCsv, null],
    ...BINARY_CSV.map(([what, content]): [string, () => Buffer, string] => [what, content, 'BINARY_FILE']),
    ['windows-1252 text', latin1Csv, 'ENCODING_ERROR'],
    ['10,000 columns', wideCsv, null],
  ])('%s', async (_what, content, code) => {
    const path = await writeText('hostile.csv', content());
    const [actual, expected] = [await readThrough(tokenizerReader, path, 1024 * 1024), await readThrough(csvParseReader, path, 1024 * 1024)];
    expect(actual.code ?? null).toBe(code);
    expect(actual.code).toBe(expected.code);
    expect(difference(actual, { ...expected, ends: actual.failure === null ? expected.ends : new Map() })).toBeNull();
  });
});
