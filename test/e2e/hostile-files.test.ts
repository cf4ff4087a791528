import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../src/datasets/columns';
import { type ColumnInput, JobIssuesDocument, type JobFieldsFragment } from '../generated/graphql';
import { tempDir, writeText, writeWorkbook } from '../helpers/files';
import { BINARY_CSV, latin1Csv, longLineCsv, unclosedQuoteCsv, unclosedShortCsv, wideCsv } from '../helpers/hostile-csv';
import { allRows, type IngestFileInput, ingest, jobCount, submit, submitRefused, submitUnchecked } from '../helpers/queries';
import { startServer, type TestServer, uploadsGone, waitForJob } from '../helpers/server';
import { HANGING_CELL, SLOW_PATTERN } from '../helpers/slow-pattern';
import { zipArchive, type ZipEntryInput } from '../helpers/zip';

// Every fixture is generated here, at test time. A hostile file must end its job with a typed code,
// leave the dataset it targets as it was, leave nothing in the spool or the OS temp folder, and leave
// the server running other jobs.

const COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true },
  { name: 'name', type: 'STRING' },
];
const SEED = [
  { id: 1, name: 'one' },
  { id: 2, name: 'two' },
  { id: 3, name: 'three' },
];
const csvText = (...lines: string[]) => `${lines.join('\n')}\n`;

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A worksheet's XML: rows of numbers and inline strings (A1-style refs), then `tail` (after sheetData), under an optional DOCTYPE. */
function sheetXml(rows: Array<Array<string | number>>, options: { doctype?: string; tail?: string; raw?: string } = {}): string {
  const cells = (row: Array<string | number>, r: number) =>
    row
      .map((value, c) => {
        const ref = `${String.fromCharCode(65 + c)}${r}`;
        return typeof value === 'number' ? `<c r="${ref}"><v>${value}</v></c>` : `<c r="${ref}" t="inlineStr"><is><t>${escapeXml(value)}</t></is></c>`;
      })
      .join('');
  const body = rows.map((row, i) => `<row r="${i + 1}">${cells(row, i + 1)}</row>`).join('') + (options.raw ?? '');
  return `<?xml version="1.0" encoding="UTF-8"?>${options.doctype ?? ''}<worksheet xmlns="${MAIN_NS}"><sheetData>${body}</sheetData>${options.tail ?? ''}</worksheet>`;
}

/** The parts of a minimal workbook with one worksheet (and shared strings when given), for hand-built archives. `sheetName` is XML as written. */
function workbookEntries(sheet: string, sharedStrings?: string, sheetName = 'Data'): ZipEntryInput[] {
  const strings = sharedStrings === undefined ? '' : `<Relationship Id="rId2" Type="${REL_NS}/sharedStrings" Target="sharedStrings.xml"/>`;
  return [
    { name: 'xl/workbook.xml', data: `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><sheets><sheet name="${sheetName}" sheetId="1" r:id="rId1"/></sheets></workbook>` },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>${strings}</Relationships>`,
    },
    { name: 'xl/worksheets/sheet1.xml', data: sheet, deflate: true },
    ...(sharedStrings === undefined ? [] : [{ name: 'xl/sharedStrings.xml', data: sharedStrings, deflate: true }]),
  ];
}

async function writeZip(name: string, entries: readonly ZipEntryInput[]): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, zipArchive(entries));
  return path;
}

/** What exceljs's `tmp` package would leave in the OS temp folder for this process (a worksheet spooled before its shared strings). */
async function exceljsLeftovers(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith(`tmp-${process.pid}-`));
}

let datasets = 0;

/** A dataset holding the three SEED rows, committed by a good CSV job. */
async function seededDataset(server: TestServer): Promise<string> {
  const dataset = `hostile-${++datasets}`;
  const path = await writeText('seed.csv', csvText('id,name', ...SEED.map((row) => `${row.id},${row.name}`)));
  expect((await ingest(server.client, { dataset, columns: COLUMNS }, path)).status).toBe('COMPLETED');
  return dataset;
}

/** The server still runs a job to COMPLETED. */
async function expectServing(server: TestServer): Promise<void> {
  const path = await writeText('after.csv', csvText('id,name', '7,seven'));
  const job = await ingest(server.client, { dataset: `after-${++datasets}`, columns: COLUMNS }, path);
  expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1, rowsRejected: 0 } });
}

/**
 * Uploads a hostile file in REPLACE mode onto a seeded dataset and checks what every hostile file must
 * do: the job FAILS with `code`, the dataset keeps its rows, the spool and the temp folder are clean,
 * and the server still completes another job. Returns the failed job.
 */
async function expectRejected(server: TestServer, path: string, fileName: string, code: string, input: Partial<IngestFileInput> = {}): Promise<JobFieldsFragment> {
  const dataset = await seededDataset(server);
  const job = await ingest(server.client, { dataset, columns: COLUMNS, mode: 'REPLACE', ...input }, path, fileName);
  return expectFailedHarmlessly(server, job, dataset, code);
}

/**
 * Commits a REPLACE job of an XLSX file onto a seeded dataset through the registry, as if the
 * submission's checks had let the file by, and checks it as expectRejected does: the worker's own defence.
 */
async function expectRejectedUnchecked(server: TestServer, path: string, sheet: string | null, code: string): Promise<JobFieldsFragment> {
  const dataset = await seededDataset(server);
  const columns: ColumnSpec[] = COLUMNS.map((c) => ({ name: c.name, type: c.type, required: c.required ?? false, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null }));
  const id = await submitUnchecked(server, { dataset, format: 'XLSX', columns, sheet, mode: 'REPLACE' }, path);
  return expectFailedHarmlessly(server, await waitForJob(server.client, id), dataset, code);
}

/** The checks of expectRejected once the job has ended. */
async function expectFailedHarmlessly(server: TestServer, job: JobFieldsFragment, dataset: string, code: string): Promise<JobFieldsFragment> {
  expect(job.error?.code, `${job.error?.message}\n${server.loggedErrors()}`).toBe(code);
  expect(job.status).toBe('FAILED');
  expect(job.dataset.rowCount).toBe(SEED.length);
  expect((await allRows(server.client, dataset)).map((row) => row.values)).toEqual(SEED);
  await uploadsGone(server);
  expect(await exceljsLeftovers()).toEqual([]);
  await expectServing(server);
  return job;
}

describe('hostile files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('XLSX: the zip directory is checked before anything is inflated', () => {
    it('rejects a zip bomb (a sheet declared to inflate ~1000x) with FILE_REJECTED', async () => {
      // 64 MiB of one repeated row deflates about 1000 to 1.
      const bomb = sheetXml([['id', 'name']], { raw: '<row><c><v>0</v></c></row>'.repeat(2_500_000) });
      const path = await writeZip('bomb.xlsx', workbookEntries(bomb));
      const job = await expectRejected(server, path, 'bomb.xlsx', 'FILE_REJECTED');
      expect(job.error!.message).toMatch(/inflate \d+ times/);
    });

    it('rejects a sheet that inflates past the size its directory declares with FILE_REJECTED, without inflating the rest', async () => {
      // The directory says 1 KiB (no ratio to object to); the data inflates to about 64 MiB.
      const entries = workbookEntries(sheetXml([['id', 'name']], { raw: '<row><c><v>0</v></c></row>'.repeat(2_500_000) }));
      entries[2] = { ...entries[2], declaredSize: 1024 };
      const path = await writeZip('lying.xlsx', entries);
      const job = await expectRejected(server, path, 'lying.xlsx', 'FILE_REJECTED');
      expect(job.error!.message).toContain('declared');
    });

    it('rejects a zip with 100k entries with FILE_REJECTED, from the directory alone', async () => {
      const padding = Array.from({ length: 100_000 }, (_, i): ZipEntryInput => ({ name: `xl/media/p${i}.bin`, data: '' }));
      const path = await writeZip('many.xlsx', [...workbookEntries(sheetXml([['id', 'name'], [9, 'nine']])), ...padding]);
      const job = await expectRejected(server, path, 'many.xlsx', 'FILE_REJECTED');
      expect(job.error!.message).toContain('100003 zip entries');
    });

    it.each(['../evil.xml', 'xl/../../evil.xml', '/etc/evil.xml', 'C:/evil.xml', 'xl\\worksheets\\evil.xml'])(
      'rejects an entry named %s with FILE_REJECTED',
      async (name) => {
        const path = await writeZip('names.xlsx', [...workbookEntries(sheetXml([['id', 'name'], [9, 'nine']])), { name, data: 'x' }]);
        const job = await expectRejected(server, path, 'names.xlsx', 'FILE_REJECTED');
        expect(job.error!.message).toContain('entry name');
      },
    );

    it('reads only entries the central directory lists: a sheet smuggled in as a local header only is never parsed', async () => {
      const smuggled: ZipEntryInput = { name: 'xl/worksheets/sheet1.xml', data: sheetXml([['id', 'name'], [666, 'smuggled']]), listed: false };
      const path = await writeZip('smuggled.xlsx', [smuggled, ...workbookEntries(sheetXml([['id', 'name'], [9, 'nine']]))]);
      const job = await ingest(server.client, { dataset: `smuggled-${++datasets}`, columns: COLUMNS }, path, 'smuggled.xlsx');
      expect(job.status).toBe('COMPLETED');
      expect((await allRows(server.client, job.dataset.name)).map((row) => row.values)).toEqual([{ id: 9, name: 'nine' }]);
    });
  });

  describe('XLSX: XML', () => {
    let marker: string;
    let secret: string;
    beforeAll(async () => {
      marker = `sluice-secret-${randomBytes(8).toString('hex')}`;
      secret = await writeText('secret.txt', marker);
    });

    /** Nothing of the secret file reached the job's rows, issues or error. */
    async function expectNoLeak(job: JobFieldsFragment): Promise<void> {
      const { job: withIssues } = await server.client.request(JobIssuesDocument, { id: job.id, first: 100 });
      const seen = JSON.stringify([job, withIssues, await allRows(server.client, job.dataset.name)]);
      expect(seen).not.toContain(marker);
    }

    it('never resolves an external entity in a sheet (XXE): the job fails with PARSE_ERROR and the file stays unread', async () => {
      const doctype = `<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://${secret}">]>`;
      const sheet = sheetXml([['id', 'name']], { doctype, raw: '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>&xxe;</t></is></c></row>' });
      const path = await writeZip('xxe.xlsx', workbookEntries(sheet));
      const job = await expectRejected(server, path, 'xxe.xlsx', 'PARSE_ERROR');
      expect(job.error!.message).toContain('undefined entity');
      await expectNoLeak(job);
    });

    it('never expands entities in shared strings (billion laughs, external entity): PARSE_ERROR, bounded', async () => {
      const laughs = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
      const doctype = `<!DOCTYPE sst [<!ENTITY l0 "lol">${laughs}<!ENTITY xxe SYSTEM "file://${secret}">]>`;
      const strings = `<?xml version="1.0" encoding="UTF-8"?>${doctype}<sst xmlns="${MAIN_NS}"><si><t>id</t></si><si><t>&l9;&xxe;</t></si></sst>`;
      const sheet = sheetXml([], { raw: '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>1</v></c></row>' });
      const path = await writeZip('laughs.xlsx', workbookEntries(sheet, strings));
      const job = await expectRejected(server, path, 'laughs.xlsx', 'PARSE_ERROR');
      expect(job.error!.message).toContain('undefined entity');
      await expectNoLeak(job);
    });

    it('ends a sheet with 20,000 whole-column data validations promptly: the streaming reader skips them', async () => {
      const validations = Array.from({ length: 20_000 }, (_, i) => {
        const column = String.fromCharCode(65 + (i % 26));
        return `<dataValidation type="whole" operator="between" allowBlank="1" sqref="${column}1:${column}1048576 A${i + 1}:XFD${i + 1}"><formula1>${i}</formula1><formula2>${i * 7 + 3}</formula2></dataValidation>`;
      });
      const tail = `<dataValidations count="${validations.length}">${validations.join('')}</dataValidations>`;
      const path = await writeZip('validations.xlsx', workbookEntries(sheetXml([['id', 'name'], [1, 'one'], [2, 'two']], { tail })));
      const job = await ingest(server.client, { dataset: `validations-${++datasets}`, columns: COLUMNS }, path, 'validations.xlsx');
      expect(job.status).toBe('COMPLETED');
      expect((await allRows(server.client, job.dataset.name)).map((row) => row.values)).toEqual(SEED.slice(0, 2));
    });
  });

  describe('XLSX: a sheet name with an invalid character reference (&#x110000;, past the last code point)', () => {
    const sheet = () => sheetXml([['id', 'name'], [1, 'one']]);

    it('is refused as INVALID_FILE, whether the sheet is named or the first one is taken', async () => {
      const path = await writeZip('bad-name.xlsx', workbookEntries(sheet(), undefined, 'Bad&#x110000;'));
      const before = await jobCount(server.client);
      for (const sheetOption of [null, 'Bad']) {
        const errors = await submitRefused(server.client, { dataset: `bad-name-${++datasets}`, columns: COLUMNS, sheet: sheetOption }, path, 'bad-name.xlsx');
        expect(errors).toEqual([{ code: 'INVALID_FILE', field: ['input', 'file'], message: expect.stringContaining('&#x110000;') }]);
      }
      expect(await jobCount(server.client)).toBe(before);
      await uploadsGone(server);
    });

    it('fails a job that gets such a workbook anyway with PARSE_ERROR, sheet named or not, read in the worker or in a reader thread', async () => {
      // Over 1 MiB of random text: the file is read in a reader thread of its own.
      const large = sheetXml([['id', 'name'], ...Array.from({ length: 20_000 }, (_, i) => [i + 1, randomBytes(48).toString('base64')])]);
      const small = await writeZip('bad-name.xlsx', workbookEntries(sheet(), undefined, 'Bad&#x110000;'));
      const threaded = await writeZip('bad-name-large.xlsx', workbookEntries(large, undefined, 'Bad&#x110000;'));
      expect((await readFile(threaded)).length).toBeGreaterThan(1024 ** 2);
      for (const [path, sheetOption] of [[small, null], [small, 'Bad'], [threaded, null]] as const) {
        const job = await expectRejectedUnchecked(server, path, sheetOption, 'PARSE_ERROR');
        expect(job.error!.message).toContain('character entity');
      }
    });
  });

  it('XLSX: reads sheet names written with white space around the = of their attribute (as XML allows)', async () => {
    const entries = workbookEntries(sheetXml([['id', 'name'], [1, 'one']])).map((entry) =>
      entry.name === 'xl/workbook.xml' ? { ...entry, data: String(entry.data).replace('name="Data"', 'name = "Data"') } : entry,
    );
    const path = await writeZip('spaced-name.xlsx', entries);
    for (const sheet of [null, 'Data']) {
      const job = await ingest(server.client, { dataset: `spaced-${++datasets}`, columns: COLUMNS, sheet }, path, 'spaced-name.xlsx');
      expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1, rowsRejected: 0 } });
    }
  });

  describe('CSV', () => {
    it('fails a CSV with a 10 MB line with RECORD_TOO_LARGE', async () => {
      const path = await writeText('long-line.csv', longLineCsv());
      await expectRejected(server, path, 'long-line.csv', 'RECORD_TOO_LARGE');
    });

    it('fails an unclosed quote running to the end: RECORD_TOO_LARGE past 1 MiB; a short one is a MALFORMED_ROW (TOO_MANY_ERRORS with maxErrors 0)', async () => {
      const long = await writeText('unclosed.csv', unclosedQuoteCsv());
      await expectRejected(server, long, 'unclosed.csv', 'RECORD_TOO_LARGE');

      const short = await writeText('unclosed-short.csv', unclosedShortCsv());
      const job = await expectRejected(server, short, 'unclosed-short.csv', 'TOO_MANY_ERRORS', { maxErrors: 0 });
      const { job: withIssues } = await server.client.request(JobIssuesDocument, { id: job.id, first: 10 });
      expect(withIssues!.issues.edges.map((edge) => edge.node)).toEqual([expect.objectContaining({ code: 'MALFORMED_ROW', row: 2, message: expect.stringContaining('Quote Not Closed') })]);
    });

    it.each(BINARY_CSV)('fails %s uploaded as CSV with BINARY_FILE', async (_what, content) => {
      const path = await writeText('binary.csv', content());
      const job = await expectRejected(server, path, 'binary.csv', 'BINARY_FILE');
      expect(job.error!.message).toMatch(/NUL byte at byte offset \d+/);
    });

    it('fails windows-1252 text declared (or defaulted) as UTF-8 with ENCODING_ERROR naming the byte offset and csv.encoding', async () => {
      const path = await writeText('latin.csv', latin1Csv());
      const job = await expectRejected(server, path, 'latin.csv', 'ENCODING_ERROR');
      expect(job.error!.message).toContain('byte offset 19'); // 'id,name\n1,one\n2,caf' is 19 bytes
      expect(job.error!.message).toContain('csv.encoding');
    });

    it('fails a CSV whose header has 10,000 columns with TOO_MANY_COLUMNS', async () => {
      const path = await writeText('wide.csv', wideCsv());
      const job = await expectRejected(server, path, 'wide.csv', 'TOO_MANY_COLUMNS');
      expect(job.error!.message).toContain('10000 columns');
      // Inferred columns fail the same way, and the wide file fixes no columns for the new dataset.
      const inferred = await ingest(server.client, { dataset: `wide-${++datasets}` }, path);
      expect(inferred).toMatchObject({ status: 'FAILED', error: { code: 'TOO_MANY_COLUMNS' } });
    });
  });

  describe('text encodings a caller declares, or a byte order mark announces', () => {
    const expected = [
      { id: 1, name: 'naïve ☃' },
      { id: 2, name: 'café €' },
    ];
    const text = csvText('id,name', '1,naïve ☃', '2,café €');
    const bom = { le: Buffer.from([0xff, 0xfe]), be: Buffer.from([0xfe, 0xff]) };

    it.each([
      ['UTF-16LE with a BOM, declared', () => Buffer.concat([bom.le, Buffer.from(text, 'utf16le')]), 'utf-16le'],
      ['UTF-16LE with a BOM, not declared', () => Buffer.concat([bom.le, Buffer.from(text, 'utf16le')]), null],
      ['UTF-16BE with a BOM, not declared', () => Buffer.concat([bom.be, Buffer.from(text, 'utf16le').swap16()]), null],
      ['windows-1252, declared', () => Buffer.from(text.replace('naïve ☃', 'naïve').replace('€', '\x80'), 'latin1'), 'windows-1252'],
    ])('decodes %s', async (_what, content, encoding) => {
      const path = await writeText('encoded.csv', content());
      const job = await ingest(server.client, { dataset: `encoded-${++datasets}`, columns: COLUMNS, csv: encoding ? { encoding } : null }, path);
      expect(job.status).toBe('COMPLETED');
      const rows = (await allRows(server.client, job.dataset.name)).map((row) => row.values);
      expect(rows).toEqual(encoding === 'windows-1252' ? [{ id: 1, name: 'naïve' }, expected[1]] : expected);
    });
  });

  describe('content decides the format', () => {
    it('ingests a CSV named .xlsx as CSV, and an XLSX named .csv as XLSX, with the right data', async () => {
      const csv = await writeText('data.xlsx', csvText('id,name', '1,one', '2,two'));
      const asCsv = await submit(server.client, { dataset: `renamed-${++datasets}`, columns: COLUMNS }, csv, 'data.xlsx');
      expect(asCsv.file).toMatchObject({ name: 'data.xlsx', format: 'CSV' });
      expect((await waitForJob(server.client, asCsv.id)).status).toBe('COMPLETED');
      expect((await allRows(server.client, asCsv.dataset.name)).map((row) => row.values)).toEqual(SEED.slice(0, 2));

      const xlsx = await writeWorkbook('data.csv', { Data: [['id', 'name'], [1, 'one'], [2, 'two']] });
      const asXlsx = await submit(server.client, { dataset: `renamed-${++datasets}`, columns: COLUMNS }, xlsx, 'data.csv');
      expect(asXlsx.file).toMatchObject({ name: 'data.csv', format: 'XLSX' });
      expect((await waitForJob(server.client, asXlsx.id)).status).toBe('COMPLETED');
      expect((await allRows(server.client, asXlsx.dataset.name)).map((row) => row.values)).toEqual(SEED.slice(0, 2));
    });
  });

  describe('degenerate files', () => {
    it('refuses an empty file with the user error EMPTY_FILE, creating no job', async () => {
      const before = await jobCount(server.client);
      const path = await writeText('empty.csv', '');
      expect(await submitRefused(server.client, { dataset: 'empty' }, path)).toEqual([{ code: 'EMPTY_FILE', field: ['input', 'file'], message: expect.any(String) }]);
      expect(await jobCount(server.client)).toBe(before);
      await uploadsGone(server);
    });

    it('completes a header-only CSV with 0 rows', async () => {
      const path = await writeText('header.csv', 'id,name\n');
      const job = await ingest(server.client, { dataset: `header-${++datasets}`, columns: COLUMNS }, path);
      expect(job).toMatchObject({ status: 'COMPLETED', error: null, result: { rowsWritten: 0, rowsRejected: 0 }, dataset: { rowCount: 0 } });
    });
  });

  describe('cells that look like formulas are data', () => {
    it('stores CSV cells starting with =, +, -, @ verbatim as text; "-5" in an INTEGER column is a number', async () => {
      const cells = ['=1+2', '+SUM(A1:A9)', '-cmd|/C calc', '@SUM(A1)', '=HYPERLINK("http://example.com","x")'];
      const path = await writeText('formulas.csv', csvText('id,name', ...cells.map((cell, i) => `${i + 1},"${cell.replaceAll('"', '""')}"`), '-5,minus'));
      const job = await ingest(server.client, { dataset: `formulas-${++datasets}`, columns: COLUMNS }, path);
      expect(job.status).toBe('COMPLETED');
      expect((await allRows(server.client, job.dataset.name)).map((row) => row.values)).toEqual([...cells.map((name, i) => ({ id: i + 1, name })), { id: -5, name: 'minus' }]);
    });

    it('stores an XLSX formula cell as its cached result (null without one), never the formula; text starting with = stays text', async () => {
      const path = await writeWorkbook('formulas.xlsx', {
        Data: [
          ['id', 'name'],
          [{ formula: '1+1', result: 2 }, { formula: '"a"&"b"', result: 'ab' }],
          [3, { formula: 'NOW()' }],
          [4, '=cmd|/C calc'],
        ],
      });
      const job = await ingest(server.client, { dataset: `xlsx-formulas-${++datasets}`, columns: COLUMNS }, path, 'formulas.xlsx');
      expect(job.status).toBe('COMPLETED');
      expect((await allRows(server.client, job.dataset.name)).map((row) => row.values)).toEqual([
        { id: 2, name: 'ab' },
        { id: 3, name: null },
        { id: 4, name: '=cmd|/C calc' },
      ]);
    });
  });
});

// The limit leaves a small job (the seed, the job run after) ample time even on a busy machine.
describe('time limit of an attempt (parseTimeLimitMs 4000)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ parseTimeLimitMs: 4000 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails a job whose thread is hogged (the costliest pattern on a long cell) with PARSE_TIMEOUT, and the server runs the next job', async () => {
    const path = await writeText('hog.csv', csvText('id,name', `1,${HANGING_CELL}`));
    const columns: ColumnInput[] = [COLUMNS[0], { ...COLUMNS[1], pattern: SLOW_PATTERN }];
    await expectRejected(server, path, 'hog.csv', 'PARSE_TIMEOUT', { columns });
  });

  it('fails an XLSX that takes longer to read than the limit with PARSE_TIMEOUT', async () => {
    // 1.2M rows: several times the limit's worth of parsing on an idle machine.
    const rows = Array.from({ length: 1_200_000 }, (_, i): Array<string | number> => [i + 1, `name ${i + 1}`]);
    const path = await writeZip('slow.xlsx', workbookEntries(sheetXml([['id', 'name'], ...rows])));
    await expectRejected(server, path, 'slow.xlsx', 'PARSE_TIMEOUT');
  });
});

