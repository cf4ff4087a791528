import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { type ColumnInput, DatasetDocument, IngestDocument, JobIssuesDocument } from '../generated/graphql';
import { expectedPerson, PERSON_COLUMNS, tempDir, writeText, writeWorkbook } from '../helpers/files';
import { allRows, type IngestFileInput, jobCount, messagesOf, submit, submitRefused } from '../helpers/queries';
import { heldUploads, NO_UPLOADS, startServer, type TestServer, waitForJob } from '../helpers/server';
import { storedZip } from '../helpers/zip';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** The entries of a zip archive with their uncompressed sizes, read with yauzl: proves a fixture is the archive it claims to be. */
function zipEntries(path: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries = new Map<string, number>();
      zip.on('error', reject);
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.set(entry.fileName, entry.uncompressedSize);
        zip.readEntry();
      });
      zip.on('end', () => resolve(entries));
      zip.readEntry();
    });
  });
}

/** Uploads an XLSX file that must be accepted as XLSX under its own name, and waits for its job to end. */
async function ingestXlsx(input: IngestFileInput, path: string, fileName: string) {
  const accepted = await submit(server.client, input, path, fileName);
  expect(accepted.file).toMatchObject({ name: fileName, format: 'XLSX' });
  return waitForJob(server.client, accepted.id);
}

const utcDate = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
const utcDateTime = (y: number, m: number, d: number, h: number, min: number, s: number) => new Date(Date.UTC(y, m - 1, d, h, min, s));

describe('XLSX ingest', () => {
  it('ingests typed cells (numbers, booleans, dates, datetimes, strings, rich text, formulas) with a column schema', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true, unique: true },
      { name: 'amount', type: 'DECIMAL' },
      { name: 'active', type: 'BOOLEAN' },
      { name: 'day', type: 'DATE' },
      { name: 'at', type: 'DATETIME' },
      { name: 'name', type: 'STRING' },
      { name: 'note', type: 'STRING' },
      { name: 'total', type: 'DECIMAL' },
      { name: 'label', type: 'STRING' },
    ];
    const rich = (...parts: string[]) => ({ richText: parts.map((text, i) => (i % 2 === 1 ? { text, font: { bold: true } } : { text })) });
    const path = await writeWorkbook('typed.xlsx', {
      Data: [
        ['id', 'amount', 'active', 'day', 'at', 'name', 'note', 'total', 'label'],
        [1, 12.5, true, utcDate(2024, 1, 15), utcDateTime(2024, 3, 5, 13, 45, 30), 'Alice', rich('Hello ', 'World'), { formula: 'A2*10', result: 10 }, { formula: '"a"&"b"', result: 'ab' }],
        [2, -0.25, false, utcDate(1999, 12, 31), utcDateTime(2023, 12, 31, 23, 59, 59), 'Zoë ☃, "quoted"', rich('x', 'y', 'z'), { formula: 'B3*4', result: -1 }, null],
        [3, 1_000_000.125, true, utcDate(2000, 2, 29), utcDateTime(1990, 6, 1, 0, 0, 1), 42, null, { formula: 'SUM(A2:A4)', result: 6 }, { formula: 'F4&""', result: '42' }],
        [4, 7, null, null, null, '  padded  ', 'plain', null, 'text'],
      ],
    });

    const job = await ingestXlsx({ dataset: 'typed', columns }, path, 'typed.xlsx');
    expect(job.status).toBe('COMPLETED');
    expect(job.error).toBeNull();
    expect(job.file.format).toBe('XLSX');
    expect(job.progress).toMatchObject({ processedRows: 4, totalRows: 4, rowsWritten: 4, rowsRejected: 0, percent: 100 });
    expect(job.result).toMatchObject({ rowsWritten: 4, rowsRejected: 0 });
    expect(job.issueCounts).toEqual({ errors: 0, warnings: 0 });
    expect(messagesOf(job)).toMatchObject({ format: 'XLSX', sheet: 'Data' });

    const { dataset } = await server.client.request(DatasetDocument, { name: 'typed', first: 10 });
    expect(dataset!.rowCount).toBe(4);
    expect(dataset!.columns).toEqual(columns.map((c) => ({ name: c.name, type: c.type, required: c.required ?? false })));

    const rows = await allRows(server.client, 'typed');
    expect(rows.map((r) => r.values)).toEqual([
      { id: 1, amount: 12.5, active: true, day: '2024-01-15', at: '2024-03-05T13:45:30.000Z', name: 'Alice', note: 'Hello World', total: 10, label: 'ab' },
      { id: 2, amount: -0.25, active: false, day: '1999-12-31', at: '2023-12-31T23:59:59.000Z', name: 'Zoë ☃, "quoted"', note: 'xyz', total: -1, label: null },
      { id: 3, amount: 1_000_000.125, active: true, day: '2000-02-29', at: '1990-06-01T00:00:01.000Z', name: '42', note: null, total: 6, label: '42' },
      { id: 4, amount: 7, active: null, day: null, at: null, name: '  padded  ', note: 'plain', total: null, label: 'text' },
    ]);
  });

  it('keeps multi-byte text whole where the zip stream splits a character between two chunks, in shared and inline strings', async () => {
    // Without a streaming decoder (exceljs#2084, patched in patches/) about one row in a thousand came out with U+FFFD.
    const ROWS = 20_000;
    const text = (i: number) => `Zoë–${'é漢😀'.repeat(12)}-${i}`;
    for (const useSharedStrings of [true, false]) {
      const path = join(await tempDir(), 'multibyte.xlsx');
      const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings });
      const sheet = writer.addWorksheet('data');
      sheet.addRow(['id', 'text']).commit();
      for (let i = 1; i <= ROWS; i++) sheet.addRow([i, text(i)]).commit();
      sheet.commit();
      await writer.commit();
      const dataset = `multibyte-${useSharedStrings ? 'shared' : 'inline'}`;
      const job = await ingestXlsx({ dataset, columns: [{ name: 'id', type: 'INTEGER' }, { name: 'text', type: 'STRING' }] }, path, 'multibyte.xlsx');
      expect(job.status).toBe('COMPLETED');
      const rows = await allRows(server.client, dataset);
      expect(rows).toHaveLength(ROWS);
      const wrong = rows.filter((row) => row.values.text !== text(row.values.id as number));
      expect(wrong.map((row) => row.values)).toEqual([]);
    }
  });

  it('ingests a 20k-row workbook written by the streaming writer with shared strings', async () => {
    const ROWS = 20_000;
    const teams = ['red', 'green', 'blue', 'yellow', 'violet'];
    const path = join(await tempDir(), 'people.xlsx');
    const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
    const sheet = writer.addWorksheet('People');
    sheet.addRow(['id', 'name', 'email', 'amount', 'joined', 'active', 'team']).commit();
    for (let i = 1; i <= ROWS; i++) {
      // The CSV helper's people, as typed cells: numbers, strings, a real date and a boolean.
      const person = expectedPerson(i);
      const [y, m, d] = String(person.joined).split('-').map(Number);
      sheet.addRow([i, person.name, person.email, person.amount, utcDate(y, m, d), person.active, teams[i % teams.length]]).commit();
    }
    sheet.commit();
    await writer.commit();
    // The fixture really is a shared-strings workbook: it carries a non-empty xl/sharedStrings.xml.
    const entries = await zipEntries(path);
    expect(entries.get('xl/sharedStrings.xml')).toBeGreaterThan(0);

    const columns = [...PERSON_COLUMNS, { name: 'team', type: 'STRING', required: true, values: teams } as ColumnInput];
    const job = await ingestXlsx({ dataset: 'xlsx-people', columns }, path, 'people.xlsx');
    expect(job.status).toBe('COMPLETED');
    expect(job.error).toBeNull();
    expect(job.progress).toMatchObject({ processedRows: ROWS, totalRows: ROWS, rowsWritten: ROWS, rowsRejected: 0, percent: 100 });
    expect(job.progress.bytesRead).toBeGreaterThan(0);
    expect(job.progress.bytesRead).toBeLessThanOrEqual(job.progress.totalBytes);
    expect(job.result).toMatchObject({ rowsWritten: ROWS, rowsRejected: 0 });
    expect(job.issueCounts).toEqual({ errors: 0, warnings: 0 });
    expect(messagesOf(job)).toMatchObject({ format: 'XLSX', sheet: 'People' });

    const { dataset } = await server.client.request(DatasetDocument, { name: 'xlsx-people', first: 1 });
    expect(dataset!.rowCount).toBe(ROWS);
    expect(dataset!.rows.totalCount).toBe(ROWS);

    const rows = await allRows(server.client, 'xlsx-people');
    expect(rows).toHaveLength(ROWS);
    for (const i of [1, 2, 3, 12, 999, 1000, 1001, 4_321, 10_000, 12_345, 19_999, ROWS]) {
      expect(rows[i - 1].values, `data row ${i}`).toEqual({ ...expectedPerson(i), team: teams[i % teams.length] });
    }
    // Rows keep the sheet's order, and no row is lost or doubled.
    expect(rows.map((r) => r.values.id)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  });

  describe('worksheet choice', () => {
    let path: string;
    beforeAll(async () => {
      path = await writeWorkbook('two-sheets.xlsx', {
        Summary: [
          ['code', 'qty'],
          ['first-a', 1],
          ['first-b', 2],
        ],
        Details: [
          ['code', 'qty'],
          ['second-a', 10],
          ['second-b', 20],
          ['second-c', 30],
        ],
      });
    });
    const columns: ColumnInput[] = [
      { name: 'code', type: 'STRING', required: true },
      { name: 'qty', type: 'INTEGER' },
    ];

    it('reads the first worksheet when no sheet is given', async () => {
      const job = await ingestXlsx({ dataset: 'sheet-default', columns }, path, 'two-sheets.xlsx');
      expect(job.status).toBe('COMPLETED');
      expect(messagesOf(job)).toMatchObject({ format: 'XLSX', sheet: 'Summary' });
      expect((await allRows(server.client, 'sheet-default')).map((r) => r.values)).toEqual([
        { code: 'first-a', qty: 1 },
        { code: 'first-b', qty: 2 },
      ]);
    });

    it('reads the worksheet named by `sheet`, not the first one', async () => {
      const job = await ingestXlsx({ dataset: 'sheet-named', columns, sheet: 'Details' }, path, 'two-sheets.xlsx');
      expect(job.status).toBe('COMPLETED');
      expect(job.progress).toMatchObject({ processedRows: 3, rowsWritten: 3, rowsRejected: 0 });
      expect(messagesOf(job)).toMatchObject({ format: 'XLSX', sheet: 'Details' });
      expect((await allRows(server.client, 'sheet-named')).map((r) => r.values)).toEqual([
        { code: 'second-a', qty: 10 },
        { code: 'second-b', qty: 20 },
        { code: 'second-c', qty: 30 },
      ]);
    });

    it('finds a sheet whose name needs escaping in the workbook XML', async () => {
      const escaped = await writeWorkbook('escaped.xlsx', {
        Plain: [['code'], ['plain']],
        'R&D <"2024">': [['code'], ['escaped']],
      });
      const job = await ingestXlsx({ dataset: 'sheet-escaped', columns: [columns[0]], sheet: 'R&D <"2024">' }, escaped, 'escaped.xlsx');
      expect(job.status).toBe('COMPLETED');
      expect(messagesOf(job)).toMatchObject({ sheet: 'R&D <"2024">' });
      expect((await allRows(server.client, 'sheet-escaped')).map((r) => r.values)).toEqual([{ code: 'escaped' }]);
    });
  });

  describe('refused uploads', () => {
    // A server of its own: its job count and spool hold nothing from other tests.
    let fresh: TestServer;
    beforeAll(async () => {
      fresh = await startServer();
    });
    afterAll(async () => {
      await fresh?.stop();
    });

    it('refuses an unknown sheet with UNKNOWN_SHEET, creating no job and leaving no file in the spool', async () => {
      const path = await writeWorkbook('sheets.xlsx', { Alpha: [['a'], [1]], Beta: [['b'], [2]] });
      const userErrors = await submitRefused(fresh.client, { dataset: 'nowhere', sheet: 'Gamma' }, path, 'sheets.xlsx');
      expect(userErrors).toHaveLength(1);
      expect(userErrors[0]).toMatchObject({ code: 'UNKNOWN_SHEET', field: ['input', 'sheet'] });
      expect(userErrors[0].message).toContain('Gamma');
      expect(userErrors[0].message).toContain('Alpha, Beta');

      expect(await jobCount(fresh.client)).toBe(0);
      expect((await fresh.client.request(DatasetDocument, { name: 'nowhere' })).dataset).toBeNull();
      expect(await heldUploads(fresh)).toEqual(NO_UPLOADS);
    });
  });

  it('refuses a format declared against the content with FORMAT_MISMATCH', async () => {
    const before = await jobCount(server.client);
    const csv = await writeText('really.csv', 'a,b\n1,2\n');
    const asXlsx = await submitRefused(server.client, { dataset: 'mismatch', format: 'XLSX' }, csv, 'really.csv');
    expect(asXlsx).toEqual([{ code: 'FORMAT_MISMATCH', field: ['input', 'format'], message: expect.stringMatching(/XLSX.*CSV/) }]);

    const xlsx = await writeWorkbook('really.xlsx', { Sheet1: [['a', 'b'], [1, 2]] });
    const asCsv = await submitRefused(server.client, { dataset: 'mismatch', format: 'CSV' }, xlsx, 'really.xlsx');
    expect(asCsv).toEqual([{ code: 'FORMAT_MISMATCH', field: ['input', 'format'], message: expect.stringMatching(/CSV.*XLSX/) }]);

    expect(await jobCount(server.client)).toBe(before);
  });

  it('detects an XLSX upload from its content when no format is given', async () => {
    const path = await writeWorkbook('detect.xlsx', { Numbers: [['n'], [1], [2]] });
    // A name that says nothing about the format: only the content can tell.
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'detected' } }, path, 'upload.bin');
    expect(answer.data!.ingest.userErrors).toEqual([]);
    expect(answer.data!.ingest.job!.file).toMatchObject({ name: 'upload.bin', format: 'XLSX' });
    const job = await waitForJob(server.client, answer.data!.ingest.job!.id);
    expect(job.status).toBe('COMPLETED');
    expect(job.file.format).toBe('XLSX');
    const messages = messagesOf(job);
    expect(messages).toMatchObject({ format: 'XLSX', sheet: 'Numbers' });
    expect(messages).not.toHaveProperty('delimiter');
    expect(messages).not.toHaveProperty('encoding');
    expect((await allRows(server.client, 'detected')).map((r) => r.values)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('refuses a zip archive that is not a workbook with INVALID_FILE', async () => {
    const before = await jobCount(server.client);
    const dir = await tempDir();
    const notWorkbook = join(dir, 'archive.zip');
    await writeFile(notWorkbook, storedZip({ 'readme.txt': 'hello', 'data/values.csv': 'a,b\n1,2\n' }));
    expect([...(await zipEntries(notWorkbook)).keys()]).toEqual(['readme.txt', 'data/values.csv']); // a sound zip archive
    const first = await submitRefused(server.client, { dataset: 'zipped' }, notWorkbook, 'archive.zip');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ code: 'INVALID_FILE', field: ['input', 'file'] });

    // The zip signature followed by garbage: sniffed as XLSX, unreadable as an archive.
    const broken = join(dir, 'broken.xlsx');
    await writeFile(broken, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 0x41)]));
    const second = await submitRefused(server.client, { dataset: 'zipped', sheet: 'Sheet1' }, broken, 'broken.xlsx');
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ code: 'INVALID_FILE', field: ['input', 'file'] });

    expect(await jobCount(server.client)).toBe(before);
  });

  it('infers typed columns from an XLSX sheet when no columns are given', async () => {
    const path = await writeWorkbook('infer.xlsx', {
      Inferred: [
        ['count', 'price', 'flag', 'day', 'moment', 'label', 'maybe'],
        [1, 1, true, utcDate(2024, 1, 1), utcDateTime(2024, 1, 1, 8, 30, 0), 'one', 'x'],
        [2, 2.5, false, utcDate(2024, 2, 29), utcDateTime(2024, 2, 29, 23, 0, 0), 'two', null],
        [-3, -0.75, true, utcDate(1970, 1, 1), utcDateTime(1970, 1, 1, 0, 0, 1), 'three', 'z'],
      ],
    });
    const job = await ingestXlsx({ dataset: 'inferred' }, path, 'infer.xlsx');
    expect(job.status).toBe('COMPLETED');
    expect(job.progress).toMatchObject({ processedRows: 3, rowsWritten: 3, rowsRejected: 0 });
    expect(messagesOf(job)).toMatchObject({
      format: 'XLSX',
      sheet: 'Inferred',
      columns:
        'count: INTEGER (required), price: DECIMAL (required), flag: BOOLEAN (required), day: DATE (required), ' +
        'moment: DATETIME (required), label: STRING (required), maybe: STRING',
    });

    const { dataset } = await server.client.request(DatasetDocument, { name: 'inferred', first: 10 });
    expect(dataset!.columns).toEqual([
      { name: 'count', type: 'INTEGER', required: true },
      { name: 'price', type: 'DECIMAL', required: true },
      { name: 'flag', type: 'BOOLEAN', required: true },
      { name: 'day', type: 'DATE', required: true },
      { name: 'moment', type: 'DATETIME', required: true },
      { name: 'label', type: 'STRING', required: true },
      { name: 'maybe', type: 'STRING', required: false },
    ]);
    expect(dataset!.rows.edges.map((e) => e.node.values)).toEqual([
      { count: 1, price: 1, flag: true, day: '2024-01-01', moment: '2024-01-01T08:30:00.000Z', label: 'one', maybe: 'x' },
      { count: 2, price: 2.5, flag: false, day: '2024-02-29', moment: '2024-02-29T23:00:00.000Z', label: 'two', maybe: null },
      { count: -3, price: -0.75, flag: true, day: '1970-01-01', moment: '1970-01-01T00:00:01.000Z', label: 'three', maybe: 'z' },
    ]);
  });

  it('infers STRING for a column of text cells that look like numbers, and keeps them as written', async () => {
    const path = await writeWorkbook('text-numbers.xlsx', {
      Codes: [
        ['zip', 'label', 'count'],
        ['00501', '42', 1],
        ['10001', '7', 2],
        ['90210', '-3.5', 3],
      ],
    });
    const job = await ingestXlsx({ dataset: 'text-numbers' }, path, 'text-numbers.xlsx');
    expect(job.status).toBe('COMPLETED');
    const { dataset } = await server.client.request(DatasetDocument, { name: 'text-numbers', first: 10 });
    expect(dataset!.columns).toEqual([
      { name: 'zip', type: 'STRING', required: true },
      { name: 'label', type: 'STRING', required: true },
      { name: 'count', type: 'INTEGER', required: true },
    ]);
    expect(dataset!.rows.edges.map((e) => e.node.values)).toEqual([
      { zip: '00501', label: '42', count: 1 },
      { zip: '10001', label: '7', count: 2 },
      { zip: '90210', label: '-3.5', count: 3 },
    ]);
  });

  it('reports validation issues with data row numbers (sheet row 2 is data row 1)', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'day', type: 'DATE' },
      { name: 'score', type: 'DECIMAL', min: 0, max: 10 },
    ];
    const path = await writeWorkbook('issues.xlsx', {
      Checked: [
        ['id', 'day', 'score'], // sheet row 1: header
        [1, utcDate(2024, 5, 1), 5], // sheet row 2: data row 1, valid
        ['abc', utcDate(2024, 5, 2), 1], // sheet row 3: data row 2, id not an INTEGER
        [3, utcDate(2024, 5, 3), 2], // sheet row 4: data row 3, valid
        [null, utcDate(2024, 5, 4), 3], // sheet row 5: data row 4, id missing
        [5, utcDateTime(2024, 5, 5, 12, 0, 0), 11], // sheet row 6: data row 5, a datetime is no DATE, score out of range
        [6, null, 9.5], // sheet row 7: data row 6, valid
        [], // sheet row 8: empty, absent from the file
        [8, 'not a date', 0], // sheet row 9: data row 8, a string that is no DATE
      ],
    });
    const job = await ingestXlsx({ dataset: 'xlsx-issues', columns }, path, 'issues.xlsx');
    expect(job.status).toBe('COMPLETED');
    expect(job.progress).toMatchObject({ processedRows: 7, rowsWritten: 3, rowsRejected: 4 });
    expect(job.issueCounts).toEqual({ errors: 5, warnings: 0 });

    const { job: withIssues } = await server.client.request(JobIssuesDocument, { id: job.id, first: 50 });
    expect(withIssues!.issues.totalCount).toBe(5);
    expect(withIssues!.issues.edges.map((e) => e.node)).toEqual([
      { severity: 'ERROR', code: 'TYPE_MISMATCH', row: 2, column: 'id', value: 'abc', message: expect.any(String) },
      { severity: 'ERROR', code: 'REQUIRED', row: 4, column: 'id', value: null, message: expect.any(String) },
      { severity: 'ERROR', code: 'TYPE_MISMATCH', row: 5, column: 'day', value: '2024-05-05T12:00:00.000Z', message: expect.any(String) },
      { severity: 'ERROR', code: 'RANGE', row: 5, column: 'score', value: '11', message: expect.any(String) },
      { severity: 'ERROR', code: 'TYPE_MISMATCH', row: 8, column: 'day', value: 'not a date', message: expect.any(String) },
    ]);
    expect((await allRows(server.client, 'xlsx-issues')).map((r) => r.values)).toEqual([
      { id: 1, day: '2024-05-01', score: 5 },
      { id: 3, day: '2024-05-03', score: 2 },
      { id: 6, day: null, score: 9.5 },
    ]);
  });
});
