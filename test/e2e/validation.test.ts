import { join } from 'node:path';
import Database from 'better-sqlite3';
import { rowsTable, storageColumn } from '../../src/engines/shared/dataset-record';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/auth/first-key';
import { type ColumnInput, DatasetColumnRulesDocument, type IssueSeverity, JobIssuesDocument } from '../generated/graphql';
import { errorIssue, type IssueView, issueViews, smallDataset, warningIssue } from '../helpers/results';
import { writeText } from '../helpers/files';
import { type IngestFileInput, ingest, submit, submitRefused, submitUnchecked } from '../helpers/queries';
import { ON_POSTGRES } from '../helpers/engine';
import { startServer, type TestServer, waitForJob } from '../helpers/server';
import { queryStoreValue } from '../helpers/store';

// Small batches, so that files of a few rows already span several commits (and UNIQUE checks
// reach rows already written, not only the batch in memory).
const BATCH_ROWS = 2;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ batchRows: BATCH_ROWS });
});
afterAll(async () => {
  await server?.stop();
});

/** Uploads `content` as a CSV named after `dataset` into it and waits until the job is terminal. */
async function ingestCsv(dataset: string, content: string, input: Omit<IngestFileInput, 'dataset'> = {}, target: TestServer = server) {
  const path = await writeText(`${dataset}.csv`, content);
  return ingest(target.client, { dataset, ...input }, path, `${dataset}.csv`);
}

/** Every issue of a job, in order, without messages. */
const issuesOf = (jobId: string, severity?: IssueSeverity, target: TestServer = server) => issueViews(target.client, jobId, severity);
const datasetOf = (name: string, target: TestServer = server) => smallDataset(target.client, name);
const error = errorIssue;
const warning = warningIssue;
const csv = (...lines: string[]) => `${lines.join('\n')}\n`;

describe('row validators', () => {
  it('REQUIRED: a blank or white-space-only required cell rejects the row; an optional one is null', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'name', type: 'STRING', required: true },
      { name: 'note', type: 'STRING' },
    ];
    const job = await ingestCsv('v-required', csv('id,name,note', '1,Ann,', '2,,x', ',Bob,y', '3,  ,z', '4,"",w', '5,Eve,hi'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 4 });
    expect(job.issueCounts).toEqual({ errors: 4, warnings: 0 });
    expect(await issuesOf(job.id)).toEqual([
      error('REQUIRED', 2, 'name', null),
      error('REQUIRED', 3, 'id', null),
      error('REQUIRED', 4, 'name', null),
      error('REQUIRED', 5, 'name', null),
    ]);
    const dataset = await datasetOf('v-required');
    expect(dataset.rowCount).toBe(2);
    expect(dataset.values).toEqual([
      { id: 1, name: 'Ann', note: null },
      { id: 5, name: 'Eve', note: 'hi' },
    ]);
  });

  it('TYPE_MISMATCH: one issue per cell that does not parse as its column type', async () => {
    const columns: ColumnInput[] = [
      { name: 'int', type: 'INTEGER' },
      { name: 'dec', type: 'DECIMAL' },
      { name: 'bool', type: 'BOOLEAN' },
      { name: 'date', type: 'DATE' },
      { name: 'ts', type: 'DATETIME' },
      { name: 'email', type: 'EMAIL' },
    ];
    const file = csv(
      'int,dec,bool,date,ts,email',
      '1,1.5,true,2024-02-29,2024-01-15T10:30:00+02:00,a@example.com', // 1: valid
      '1.5,,,,,', // 2
      '9007199254740993,,,,,', // 3: beyond the safe integers
      ',abc,,,,', // 4
      ',,maybe,,,', // 5
      ',,,2024-02-30,,', // 6: no such day
      ',,,2023-02-29,,', // 7: not a leap year
      ',,,,2024-01-15T25:00:00Z,', // 8
      ',,,,2024-02-30T10:00:00Z,', // 9
      ',,,,,not-an-email', // 10
      ',,,,,user@localhost', // 11
      '-7,-2.5e2,No,2000-02-29,2024-03-01 00:30-01:00,b@example.org', // 12: valid
      'x,y,z,2024-13-01,yesterday,@', // 13: every column wrong
    );
    const job = await ingestCsv('v-types', file, { columns });
    expect(job.status).toBe('COMPLETED');
    expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 11 });
    expect(await issuesOf(job.id)).toEqual([
      error('TYPE_MISMATCH', 2, 'int', '1.5'),
      error('TYPE_MISMATCH', 3, 'int', '9007199254740993'),
      error('TYPE_MISMATCH', 4, 'dec', 'abc'),
      error('TYPE_MISMATCH', 5, 'bool', 'maybe'),
      error('TYPE_MISMATCH', 6, 'date', '2024-02-30'),
      error('TYPE_MISMATCH', 7, 'date', '2023-02-29'),
      error('TYPE_MISMATCH', 8, 'ts', '2024-01-15T25:00:00Z'),
      error('TYPE_MISMATCH', 9, 'ts', '2024-02-30T10:00:00Z'),
      error('TYPE_MISMATCH', 10, 'email', 'not-an-email'),
      error('TYPE_MISMATCH', 11, 'email', 'user@localhost'),
      error('TYPE_MISMATCH', 13, 'int', 'x'),
      error('TYPE_MISMATCH', 13, 'dec', 'y'),
      error('TYPE_MISMATCH', 13, 'bool', 'z'),
      error('TYPE_MISMATCH', 13, 'date', '2024-13-01'),
      error('TYPE_MISMATCH', 13, 'ts', 'yesterday'),
      error('TYPE_MISMATCH', 13, 'email', '@'),
    ]);
    expect(job.issueCounts).toEqual({ errors: 16, warnings: 0 });
    const dataset = await datasetOf('v-types');
    expect(dataset.values).toEqual([
      { int: 1, dec: 1.5, bool: true, date: '2024-02-29', ts: '2024-01-15T08:30:00.000Z', email: 'a@example.com' },
      { int: -7, dec: -250, bool: false, date: '2000-02-29', ts: '2024-03-01T01:30:00.000Z', email: 'b@example.org' },
    ]);
  });

  it('PATTERN: a STRING or EMAIL value must match the regular expression', async () => {
    const columns: ColumnInput[] = [
      { name: 'code', type: 'STRING', pattern: '^[A-Z]{3}-\\d{2}$' },
      { name: 'email', type: 'EMAIL', pattern: '@example\\.com$' },
    ];
    const file = csv('code,email', 'ABC-12,a@example.com', 'abc-12,b@example.com', 'ABCD-12,c@example.com', 'XYZ-99,d@other.com', 'ÄBC-12,e@example.com');
    const job = await ingestCsv('v-pattern', file, { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([
      error('PATTERN', 2, 'code', 'abc-12'),
      error('PATTERN', 3, 'code', 'ABCD-12'),
      error('PATTERN', 4, 'email', 'd@other.com'),
      error('PATTERN', 5, 'code', 'ÄBC-12'),
    ]);
    expect((await datasetOf('v-pattern')).values).toEqual([{ code: 'ABC-12', email: 'a@example.com' }]);
  });

  it('RANGE: numeric bounds are inclusive, STRING bounds count characters (code points)', async () => {
    const columns: ColumnInput[] = [
      { name: 'qty', type: 'INTEGER', min: 1, max: 10 },
      { name: 'price', type: 'DECIMAL', min: 0.5, max: 99.99 },
      { name: 'label', type: 'STRING', min: 2, max: 3 },
    ];
    const file = csv(
      'qty,price,label',
      '1,0.5,ab', // 1: every lower bound
      '10,99.99,😀😀😀', // 2: every upper bound; three emoji are three characters (six UTF-16 units)
      '0,1,ab', // 3
      '11,1,ab', // 4
      '5,0.49,ab', // 5
      '5,100,ab', // 6
      '5,1,a', // 7
      '5,1,abcd', // 8
      '5,1,é😀x', // 9: three characters
      '-3,1e3,😀', // 10: all three out of range
    );
    const job = await ingestCsv('v-range', file, { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([
      error('RANGE', 3, 'qty', '0'),
      error('RANGE', 4, 'qty', '11'),
      error('RANGE', 5, 'price', '0.49'),
      error('RANGE', 6, 'price', '100'),
      error('RANGE', 7, 'label', 'a'),
      error('RANGE', 8, 'label', 'abcd'),
      error('RANGE', 10, 'qty', '-3'),
      error('RANGE', 10, 'price', '1e3'),
      error('RANGE', 10, 'label', '😀'),
    ]);
    expect(job.result).toMatchObject({ rowsWritten: 3, rowsRejected: 7 });
    expect((await datasetOf('v-range')).values).toEqual([
      { qty: 1, price: 0.5, label: 'ab' },
      { qty: 10, price: 99.99, label: '😀😀😀' },
      { qty: 5, price: 1, label: 'é😀x' },
    ]);
  });

  it('ENUM: a value must be one of `values` (case-sensitive; numbers compared by value)', async () => {
    const columns: ColumnInput[] = [
      { name: 'color', type: 'STRING', values: ['red', 'green', 'blue'] },
      { name: 'size', type: 'INTEGER', values: ['1', '2', '3'] },
    ];
    const file = csv('color,size', 'red,1', 'Red,2', 'purple,1', 'blue,4', 'green,02', ',3');
    const job = await ingestCsv('v-enum', file, { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('ENUM', 2, 'color', 'Red'), error('ENUM', 3, 'color', 'purple'), error('ENUM', 4, 'size', '4')]);
    expect((await datasetOf('v-enum')).values).toEqual([
      { color: 'red', size: 1 },
      { color: 'green', size: 2 },
      { color: null, size: 3 }, // a blank optional cell is not checked against the list
    ]);
  });

  it('ENUM on a BOOLEAN column accepts the listed spelling of the value', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER' },
      { name: 'accepted', type: 'BOOLEAN', values: ['true'] },
    ];
    const job = await ingestCsv('v-enum-bool', csv('id,accepted', '1,true', '2,false'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('ENUM', 2, 'accepted', 'false')]);
    expect((await datasetOf('v-enum-bool')).values).toEqual([{ id: 1, accepted: true }]);
  });

  it('UNIQUE: a value repeated inside the file rejects the later row, in the same batch or after it was written', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', unique: true },
      { name: 'name', type: 'STRING', required: true },
    ];
    const file = csv(
      'id,name',
      '1,a', // 1
      '1,b', // 2: same batch as row 1
      '2,c', // 3: the batch of rows 1 and 3 is written after this row
      '01,d', // 4: the same INTEGER as row 1, now only in the table
      '3,', // 5: rejected (REQUIRED), so its id is not taken
      '3,f', // 6
      ',g', // 7: blanks are never duplicates
      ',h', // 8
    );
    const job = await ingestCsv('v-unique', file, { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('UNIQUE', 2, 'id', '1'), error('UNIQUE', 4, 'id', '01'), error('REQUIRED', 5, 'name', null)]);
    expect((await datasetOf('v-unique')).values).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'c' },
      { id: 3, name: 'f' },
      { id: null, name: 'g' },
      { id: null, name: 'h' },
    ]);
  });

  it('UNIQUE: values of an earlier COMPLETED job count, values only in a FAILED job’s rows do not', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', unique: true },
      { name: 'name', type: 'STRING' },
    ];
    const completed = await ingestCsv('v-unique-ds', csv('id,name', '10,first', '11,second'), { columns });
    expect(completed.status).toBe('COMPLETED');

    const datasets = server.app.services.datasets;
    // Keep the failed job's rows in the table, so that the check must tell them apart (rather than not find them).
    const purge = vi.spyOn(datasets, 'purgeStep').mockResolvedValue(0);
    try {
      // Row 1 is valid and written with the batch that row 2 fails; then the job fails.
      const failed = await ingestCsv('v-unique-ds', csv('id,name', '20,failed', 'oops,failed'), { columns, maxErrors: 0 });
      expect(failed.status).toBe('FAILED');
      expect(failed.error?.code).toBe('TOO_MANY_ERRORS');
      const datasetId = (await datasets.get(DEFAULT_WORKSPACE, 'v-unique-ds'))!.id;
      expect(await queryStoreValue(server.dataDir, `SELECT count(*) FROM ${rowsTable(datasetId)} WHERE ${storageColumn(0)} = 20`)).toBe(1);
      expect((await datasetOf('v-unique-ds')).rowCount).toBe(2);

      const third = await ingestCsv('v-unique-ds', csv('id,name', '10,again', '20,reused', '12,new', '11,again'), { columns });
      expect(third.status).toBe('COMPLETED');
      expect(await issuesOf(third.id)).toEqual([error('UNIQUE', 1, 'id', '10'), error('UNIQUE', 4, 'id', '11')]);
      expect(third.result).toMatchObject({ rowsWritten: 2, rowsRejected: 2 });
    } finally {
      purge.mockRestore();
    }
    const dataset = await datasetOf('v-unique-ds');
    expect(dataset.rowCount).toBe(4);
    expect(dataset.values).toEqual([
      { id: 10, name: 'first' },
      { id: 11, name: 'second' },
      { id: 20, name: 'reused' },
      { id: 12, name: 'new' },
    ]);
  });

  it('reports the first failing rule of each column, and a problem in every column of the row', async () => {
    const columns: ColumnInput[] = [
      { name: 'code', type: 'STRING', required: true, values: ['AA', 'BBBB'], pattern: '^[A-Z]+$', min: 3 },
      { name: 'n', type: 'INTEGER', min: 0 },
    ];
    // Row 1: not in the list (ENUM before PATTERN and RANGE). Row 2: listed but too short. Row 3: both columns wrong.
    const job = await ingestCsv('v-order', csv('code,n', 'aa,1', 'AA,1', ',-1', 'BBBB,0'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('ENUM', 1, 'code', 'aa'), error('RANGE', 2, 'code', 'AA'), error('REQUIRED', 3, 'code', null), error('RANGE', 3, 'n', '-1')]);
    expect(job.result).toMatchObject({ rowsWritten: 1, rowsRejected: 3 });
    expect((await datasetOf('v-order')).values).toEqual([{ code: 'BBBB', n: 0 }]);
  });
});

describe('patterns (linear-time matching)', () => {
  it('matches a pattern that backtracks catastrophically in linear time: a long value is refused at once, valid ones pass', async () => {
    const columns: ColumnInput[] = [{ name: 'code', type: 'STRING', pattern: '^(a+)+$' }];
    // A backtracking engine needs minutes for 32 a's before the "!"; a linear one needs microseconds for 100,000.
    const file = csv('code', 'aaaa', `${'a'.repeat(100_000)}!`, `${'a'.repeat(32)}!`, 'a', 'ab');
    const path = await writeText('v-linear.csv', file);
    const submitted = await submit(server.client, { dataset: 'v-linear', columns }, path, 'v-linear.csv');
    const job = await waitForJob(server.client, submitted.id, undefined, 20_000);
    expect(job.status).toBe('COMPLETED');
    expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 3 });
    expect((await issuesOf(job.id)).map(({ code, row }) => [code, row])).toEqual([
      ['PATTERN', 2],
      ['PATTERN', 3],
      ['PATTERN', 5],
    ]);
  });

  it('refuses at submission (INVALID_PATTERN) what a linear-time engine cannot run: lookaround, backreferences, huge programs', async () => {
    const path = await writeText('v-unsupported.csv', csv('a,b,c,d,e', 'x,x,x,x,x'));
    const columns: ColumnInput[] = [
      { name: 'a', type: 'STRING', pattern: '^(?=.*\\d)\\w+$' },
      { name: 'b', type: 'STRING', pattern: '^(\\w)\\1$' },
      { name: 'c', type: 'STRING', pattern: '(?<!x)y' },
      { name: 'd', type: 'STRING', pattern: '(?:[a-z]?){1000}!' },
      { name: 'e', type: 'STRING', pattern: '^[A-Z]{3}-\\d{2}$' },
    ];
    const userErrors = await submitRefused(server.client, { dataset: 'v-unsupported', columns }, path);
    expect(userErrors.map(({ code, field }) => ({ code, field }))).toEqual(
      ['0', '1', '2', '3'].map((index) => ({ code: 'INVALID_PATTERN', field: ['input', 'columns', index, 'pattern'] })),
    );
    expect(await server.app.services.datasets.get(DEFAULT_WORKSPACE, 'v-unsupported')).toBeNull();
  });

  it('fails a job that reached a worker with a pattern the engine cannot run (queued before the engine changed) with INVALID_PATTERN, typed', async () => {
    const path = await writeText('v-queued.csv', csv('code', 'a1'));
    const columns = [{ name: 'code', type: 'STRING' as const, required: false, unique: false, pattern: '^(?=.*\\d)\\w+$', min: null, max: null, values: null, aliases: null, format: null }];
    const id = await submitUnchecked(server, { dataset: 'v-queued', format: 'CSV', columns }, path);
    const job = await waitForJob(server.client, id);
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'INVALID_PATTERN' } });
    expect(job.error!.message).toContain('"code"');
  });
});

describe("a dataset's rules", () => {
  const declared: ColumnInput[] = [
    { name: 'id', type: 'INTEGER', required: true, unique: true },
    { name: 'code', type: 'STRING', pattern: '^[A-Z]{3}-\\d{2}$' },
    { name: 'amount', type: 'DECIMAL', min: 0, max: 100 },
    { name: 'status', type: 'STRING', values: ['open', 'closed'], aliases: null, format: null },
  ];

  it('checks a later job sent without columns against every rule the dataset was declared with', async () => {
    const first = await ingestCsv('v-kept', csv('id,code,amount,status', '1,ABC-01,10,open', '2,ABC-02,20,closed'), { columns: declared });
    expect(first.status).toBe('COMPLETED');

    const second = await ingestCsv(
      'v-kept',
      csv(
        'id,code,amount,status',
        '3,ABC-03,30,open', // valid
        '1,ABC-04,40,open', // id taken by the first job
        '4,abc-04,40,open', // pattern
        '5,ABC-05,-1,open', // below min
        '6,ABC-06,101,open', // above max
        '7,ABC-07,50,pending', // not an allowed value
        ',ABC-08,50,open', // required
        'eight,ABC-09,50,open', // not an INTEGER
        '3,ABC-10,50,open', // id taken earlier in this job
        '9,ABC-11,100,closed', // valid
      ),
    );
    expect(second.status).toBe('COMPLETED');
    expect(await issuesOf(second.id)).toEqual([
      error('UNIQUE', 2, 'id', '1'),
      error('PATTERN', 3, 'code', 'abc-04'),
      error('RANGE', 4, 'amount', '-1'),
      error('RANGE', 5, 'amount', '101'),
      error('ENUM', 6, 'status', 'pending'),
      error('REQUIRED', 7, 'id', null),
      error('TYPE_MISMATCH', 8, 'id', 'eight'),
      error('UNIQUE', 9, 'id', '3'),
    ]);
    expect(second.result).toMatchObject({ rowsWritten: 2, rowsRejected: 8 });
    expect((await datasetOf('v-kept')).values.map((row) => row.id)).toEqual([1, 2, 3, 9]);
  });

  it('shows the rules in Dataset.columns', async () => {
    const { dataset } = await server.client.request(DatasetColumnRulesDocument, { name: 'v-kept' });
    expect(dataset!.columns).toEqual([
      { name: 'id', type: 'INTEGER', required: true, unique: true, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'code', type: 'STRING', required: false, unique: false, pattern: '^[A-Z]{3}-\\d{2}$', min: null, max: null, values: null, aliases: null, format: null },
      { name: 'amount', type: 'DECIMAL', required: false, unique: false, pattern: null, min: 0, max: 100, values: null, aliases: null, format: null },
      { name: 'status', type: 'STRING', required: false, unique: false, pattern: null, min: null, max: null, values: ['open', 'closed'], aliases: null, format: null },
    ]);
  });

  it("applies a later job's own columns to that job only; the dataset keeps the rules it was declared with", async () => {
    const own: ColumnInput[] = declared.map((column) => (column.name === 'status' ? { ...column, values: ['pending'] } : column));
    const withOwn = await ingestCsv('v-kept', csv('id,code,amount,status', '10,ABC-12,1,pending', '11,ABC-13,1,open'), { columns: own });
    expect(await issuesOf(withOwn.id)).toEqual([error('ENUM', 2, 'status', 'open')]);
    const { dataset } = await server.client.request(DatasetColumnRulesDocument, { name: 'v-kept' });
    expect(dataset!.columns[3].values).toEqual(['open', 'closed']);
    const without = await ingestCsv('v-kept', csv('id,code,amount,status', '12,ABC-14,1,pending', '13,ABC-15,1,open'));
    expect(await issuesOf(without.id)).toEqual([error('ENUM', 1, 'status', 'pending')]);
  });

  // Datasets of that shape exist only in SQLite databases of earlier versions: the PostgreSQL engine came after rules were kept.
  it.skipIf(ON_POSTGRES)('reads a dataset stored before rules were kept (name, type, required) as one without rules', async () => {
    expect((await ingestCsv('v-old-shape', csv('id,code', '1,x'), { columns: [{ name: 'id', type: 'INTEGER', unique: true }, declared[1]] })).status).toBe('COMPLETED');
    const db = new Database(join(server.dataDir, 'sluice.db'));
    try {
      const oldShape = JSON.stringify([{ name: 'id', type: 'INTEGER', required: false }, { name: 'code', type: 'STRING', required: false }]);
      db.prepare('UPDATE datasets SET columns = ? WHERE name = ?').run(oldShape, 'v-old-shape');
    } finally {
      db.close();
    }
    const { dataset } = await server.client.request(DatasetColumnRulesDocument, { name: 'v-old-shape' });
    expect(dataset!.columns[0]).toEqual({ name: 'id', type: 'INTEGER', required: false, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null });
    const later = await ingestCsv('v-old-shape', csv('id,code', '1,lower case'));
    expect(later.status).toBe('COMPLETED');
    expect(later.result).toMatchObject({ rowsWritten: 1, rowsRejected: 0 });
  });
});

describe('header warnings and errors', () => {
  it('EXTRA_COLUMN: a header column outside the schema is a warning; its rows are still written', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'name', type: 'STRING' },
    ];
    const job = await ingestCsv('v-extra', csv('ID,comment,Name', '1,ignored,a', '2,,b'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 0 });
    expect(job.issueCounts).toEqual({ errors: 0, warnings: 1 });
    expect(await issuesOf(job.id)).toEqual([warning('EXTRA_COLUMN', 'comment')]);
    expect((await datasetOf('v-extra')).values).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
  });

  it('MISSING_COLUMN: an optional column absent from the header is a warning; its values are null', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'email', type: 'EMAIL' },
      { name: 'name', type: 'STRING' },
    ];
    const job = await ingestCsv('v-missing', csv('id,name', '1,a', '2,b'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(job.issueCounts).toEqual({ errors: 0, warnings: 1 });
    expect(await issuesOf(job.id)).toEqual([warning('MISSING_COLUMN', 'email')]);
    expect((await datasetOf('v-missing')).values).toEqual([
      { id: 1, email: null, name: 'a' },
      { id: 2, email: null, name: 'b' },
    ]);
  });

  it('MISSING_COLUMNS: a required column absent from the header fails the job', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'name', type: 'STRING', required: true },
      { name: 'note', type: 'STRING' },
    ];
    const job = await ingestCsv('v-missing-required', csv('id,note', '1,a', '2,b'), { columns });
    expect(job.status).toBe('FAILED');
    expect(job.error?.code).toBe('MISSING_COLUMNS');
    expect(job.error?.message).toContain('name');
    expect(job.error?.message).not.toContain('note');
    expect(job.result).toBeNull();
    const dataset = await datasetOf('v-missing-required');
    expect(dataset.rowCount).toBe(0);
    expect(dataset.values).toEqual([]);
  });
});

describe('malformed CSV', () => {
  const columns: ColumnInput[] = [
    { name: 'id', type: 'INTEGER' },
    { name: 'name', type: 'STRING' },
    { name: 'code', type: 'STRING' },
  ];

  it('a row with too few or too many fields is a MALFORMED_ROW; the other rows are written', async () => {
    const job = await ingestCsv('v-fields', csv('id,name,code', '1,a,x', '2,b', '3,c,z,extra', '4,d,x'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('MALFORMED_ROW', 2, null, null), error('MALFORMED_ROW', 3, null, null)]);
    expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 2 });
    expect((await datasetOf('v-fields')).values).toEqual([
      { id: 1, name: 'a', code: 'x' },
      { id: 4, name: 'd', code: 'x' },
    ]);
  });

  it('a row with a stray quote is a MALFORMED_ROW; parsing goes on with the next row', async () => {
    const job = await ingestCsv('v-quote', csv('id,name,code', '1,a,x', '2,b,y', '3,c,z', '4,"abc"def,x', '5,e,w', '6,f,v'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('MALFORMED_ROW', 4, null, null)]);
    expect(job.result).toMatchObject({ rowsWritten: 5, rowsRejected: 1 });
    expect((await datasetOf('v-quote')).values.map((v) => v.id)).toEqual([1, 2, 3, 5, 6]);
  });

  it('numbers rows by record, not by line, with quoted line breaks and without a header', async () => {
    const job = await ingestCsv('v-records', csv('1,"two\nlines",x', 'bad,b,y', '3,c,z'), { columns, csv: { header: false } });
    expect(job.status).toBe('COMPLETED');
    expect(await issuesOf(job.id)).toEqual([error('TYPE_MISMATCH', 2, 'id', 'bad')]);
    expect((await datasetOf('v-records')).values).toEqual([
      { id: 1, name: 'two\nlines', code: 'x' },
      { id: 3, name: 'c', code: 'z' },
    ]);
  });
});

describe('maxErrors', () => {
  const columns: ColumnInput[] = [
    { name: 'id', type: 'INTEGER', required: true },
    { name: 'name', type: 'STRING' },
  ];

  it('more rejected rows than maxErrors fail the job with TOO_MANY_ERRORS and leave the dataset empty', async () => {
    // Valid rows come first, so that batches are written before the job fails.
    const file = csv('id,name', '1,a', '2,b', '3,c', '4,d', 'x,bad', ',bad', '7,g,extra', '8,h');
    const job = await ingestCsv('v-max-fail', file, { columns, maxErrors: 2 });
    expect(job.status).toBe('FAILED');
    expect(job.error?.code).toBe('TOO_MANY_ERRORS');
    expect(job.result).toBeNull();
    expect(await issuesOf(job.id)).toEqual([error('TYPE_MISMATCH', 5, 'id', 'x'), error('REQUIRED', 6, 'id', null), error('MALFORMED_ROW', 7, null, null)]);
    const dataset = await datasetOf('v-max-fail');
    expect(dataset).toMatchObject({ rowCount: 0, totalCount: 0, values: [] });
    expect(job.dataset.rowCount).toBe(0);
  });

  it('exactly maxErrors rejected rows complete the job; a row counts once however many issues it has', async () => {
    const twoIssueColumns: ColumnInput[] = [...columns, { name: 'n', type: 'DECIMAL' }];
    const file = csv('id,name,n', '1,a,1', 'x,b,y', '3,c,3', ',d,z', '5,e,5');
    const job = await ingestCsv('v-max-ok', file, { columns: twoIssueColumns, maxErrors: 2 });
    expect(job.status).toBe('COMPLETED');
    expect(job.error).toBeNull();
    expect(job.result).toMatchObject({ rowsWritten: 3, rowsRejected: 2 });
    expect(job.issueCounts).toEqual({ errors: 4, warnings: 0 });
    expect(await issuesOf(job.id)).toEqual([
      error('TYPE_MISMATCH', 2, 'id', 'x'),
      error('TYPE_MISMATCH', 2, 'n', 'y'),
      error('REQUIRED', 4, 'id', null),
      error('TYPE_MISMATCH', 4, 'n', 'z'),
    ]);
    const dataset = await datasetOf('v-max-ok');
    expect(dataset.rowCount).toBe(3);
    expect(dataset.values.map((v) => v.id)).toEqual([1, 3, 5]);
  });

  it('maxErrors 0 fails on the first rejected row', async () => {
    const job = await ingestCsv('v-max-zero', csv('id,name', '1,a', 'x,b', '3,c'), { columns, maxErrors: 0 });
    expect(job.status).toBe('FAILED');
    expect(job.error?.code).toBe('TOO_MANY_ERRORS');
    expect(job.progress.processedRows).toBe(2);
    expect((await datasetOf('v-max-zero')).rowCount).toBe(0);
  });
});

describe('inferred columns', () => {
  it('infers names, types and required from the header and a sample when no columns are given', async () => {
    const file = csv(
      'int,dec,bool,date,ts,email,text,opt,empty',
      '1,1.5,yes,2024-02-29,2024-01-15T10:30:00Z,a@example.com,hello,,',
      '-2,3,no,2024-03-01,2024-01-15 11:00,b@example.com,42,x,',
      '+3,1e3,Y,2023-12-31,2024-01-15T12:00:00+01:00,c@example.com,2024-01-01,,',
    );
    const job = await ingestCsv('v-infer', file);
    expect(job.status).toBe('COMPLETED');
    expect(job.issueCounts).toEqual({ errors: 0, warnings: 0 });
    const expected = [
      { name: 'int', type: 'INTEGER', required: true },
      { name: 'dec', type: 'DECIMAL', required: true },
      { name: 'bool', type: 'BOOLEAN', required: true },
      { name: 'date', type: 'DATE', required: true },
      { name: 'ts', type: 'DATETIME', required: true },
      { name: 'email', type: 'EMAIL', required: true },
      { name: 'text', type: 'STRING', required: true },
      { name: 'opt', type: 'STRING', required: false },
      { name: 'empty', type: 'STRING', required: false },
    ];
    const dataset = await datasetOf('v-infer');
    expect(dataset.columns).toEqual(expected);
    expect(job.messages).toContainEqual({
      key: 'columns',
      value: 'int: INTEGER (required), dec: DECIMAL (required), bool: BOOLEAN (required), date: DATE (required), ts: DATETIME (required), email: EMAIL (required), text: STRING (required), opt: STRING, empty: STRING',
    });
    expect(dataset.values).toEqual([
      { int: 1, dec: 1.5, bool: true, date: '2024-02-29', ts: '2024-01-15T10:30:00.000Z', email: 'a@example.com', text: 'hello', opt: null, empty: null },
      { int: -2, dec: 3, bool: false, date: '2024-03-01', ts: '2024-01-15T11:00:00.000Z', email: 'b@example.com', text: '42', opt: 'x', empty: null },
      { int: 3, dec: 1000, bool: true, date: '2023-12-31', ts: '2024-01-15T11:00:00.000Z', email: 'c@example.com', text: '2024-01-01', opt: null, empty: null },
    ]);
  });

  it('infers STRING for numbers written with leading zeros (zip and county codes), even when only some sampled values have them, and keeps them as written', async () => {
    const small = await startServer({ batchRows: BATCH_ROWS, inferSampleRows: 4 });
    try {
      // "0", "0.5" and "-0.25" are numbers; "00501", "09005", "-007" and "00.5" are codes.
      const file = csv('zip_code,county,code,ratio,amount', '10001,36061,12,1,0', '00501,36061,7,00.5,0.5', '90210,06037,-007,2,-0.25', '60601,17031,3,4,1.5', '02134,09005,5,6,7');
      const job = await ingestCsv('v-infer-zeros', file, {}, small);
      expect(job.status).toBe('COMPLETED');
      expect(job.issueCounts).toEqual({ errors: 0, warnings: 0 });
      const dataset = await datasetOf('v-infer-zeros', small);
      expect(dataset.columns).toEqual([
        { name: 'zip_code', type: 'STRING', required: true },
        { name: 'county', type: 'STRING', required: true },
        { name: 'code', type: 'STRING', required: true },
        { name: 'ratio', type: 'STRING', required: true },
        { name: 'amount', type: 'DECIMAL', required: true },
      ]);
      expect(dataset.values).toEqual([
        { zip_code: '10001', county: '36061', code: '12', ratio: '1', amount: 0 },
        { zip_code: '00501', county: '36061', code: '7', ratio: '00.5', amount: 0.5 },
        { zip_code: '90210', county: '06037', code: '-007', ratio: '2', amount: -0.25 },
        { zip_code: '60601', county: '17031', code: '3', ratio: '4', amount: 1.5 },
        { zip_code: '02134', county: '09005', code: '5', ratio: '6', amount: 7 },
      ]);
    } finally {
      await small.stop();
    }
  });

  it('names blank and repeated header cells', async () => {
    const job = await ingestCsv('v-infer-names', csv('a,,A,a', '1,x,2024-01-01,true'));
    expect(job.status).toBe('COMPLETED');
    expect((await datasetOf('v-infer-names')).columns).toEqual([
      { name: 'a', type: 'INTEGER', required: true },
      { name: 'column_2', type: 'STRING', required: true },
      { name: 'A_2', type: 'DATE', required: true },
      { name: 'a_3', type: 'BOOLEAN', required: true },
    ]);
  });

  it('enforces the inferred columns on the rows after the sample', async () => {
    const small = await startServer({ batchRows: BATCH_ROWS, inferSampleRows: 2 });
    try {
      const job = await ingestCsv('v-infer-sample', csv('n,label', '1,a', '2,b', 'x,c', '4,', '5,e'), {}, small);
      expect(job.status).toBe('COMPLETED');
      expect((await datasetOf('v-infer-sample', small)).columns).toEqual([
        { name: 'n', type: 'INTEGER', required: true },
        { name: 'label', type: 'STRING', required: true },
      ]);
      expect(await issuesOf(job.id, undefined, small)).toEqual([error('TYPE_MISMATCH', 3, 'n', 'x'), error('REQUIRED', 4, 'label', null)]);
      expect((await datasetOf('v-infer-sample', small)).values).toEqual([
        { n: 1, label: 'a' },
        { n: 2, label: 'b' },
        { n: 5, label: 'e' },
      ]);
    } finally {
      await small.stop();
    }
  });
});

describe('issue paging', () => {
  it('pages issues in order with first/after, filters by severity, and counts them', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'email', type: 'EMAIL' },
      { name: 'name', type: 'STRING' },
    ];
    // Two warnings (the header lacks "name" and has an extra "comment"), then five errors in four rows.
    const file = csv('id,email,comment', '1,a@example.com,', 'x,b@example.com,', ',c@example.com,', '4,nope,', '5,e@example.com,', 'y,f,', '7,g@example.com,');
    const job = await ingestCsv('v-paging', file, { columns });
    expect(job.status).toBe('COMPLETED');
    const all = [
      warning('MISSING_COLUMN', 'name'),
      warning('EXTRA_COLUMN', 'comment'),
      error('TYPE_MISMATCH', 2, 'id', 'x'),
      error('REQUIRED', 3, 'id', null),
      error('TYPE_MISMATCH', 4, 'email', 'nope'),
      error('TYPE_MISMATCH', 6, 'id', 'y'),
      error('TYPE_MISMATCH', 6, 'email', 'f'),
    ];
    expect(job.issueCounts).toEqual({ errors: 5, warnings: 2 });

    const page = async (first: number, after?: string | null, severity?: IssueSeverity) => {
      const { job: found } = await server.client.request(JobIssuesDocument, { id: job.id, first, after, severity });
      return found!.issues;
    };
    // Pages of two: 2 + 2 + 2 + 1, each with the total count.
    const seen: IssueView[] = [];
    const hasNext: boolean[] = [];
    let after: string | null | undefined;
    for (let i = 0; i < 10; i++) {
      const issues = await page(2, after);
      expect(issues.totalCount).toBe(7);
      seen.push(...issues.edges.map(({ node: { message: _message, ...rest } }) => rest));
      hasNext.push(issues.pageInfo.hasNextPage);
      if (!issues.pageInfo.hasNextPage) break;
      after = issues.pageInfo.endCursor;
    }
    expect(hasNext).toEqual([true, true, true, false]);
    expect(seen).toEqual(all);

    const errors = await page(3, null, 'ERROR');
    expect(errors.totalCount).toBe(5);
    expect(errors.pageInfo.hasNextPage).toBe(true);
    const moreErrors = await page(3, errors.pageInfo.endCursor, 'ERROR');
    expect(moreErrors.totalCount).toBe(5);
    expect(moreErrors.pageInfo.hasNextPage).toBe(false);
    expect([...errors.edges, ...moreErrors.edges].map(({ node: { message: _message, ...rest } }) => rest)).toEqual(all.slice(2));

    const warnings = await page(10, null, 'WARNING');
    expect(warnings.totalCount).toBe(2);
    expect(warnings.pageInfo.hasNextPage).toBe(false);
    expect(warnings.edges.map(({ node: { message: _message, ...rest } }) => rest)).toEqual(all.slice(0, 2));

    expect(await issuesOf(job.id)).toEqual(all);
    expect(await issuesOf(job.id, 'ERROR')).toEqual(all.filter((i) => i.severity === 'ERROR'));

    const empty = await page(0);
    expect(empty.edges).toEqual([]);
    expect(empty.totalCount).toBe(7);
    expect(empty.pageInfo.hasNextPage).toBe(true);
  });
});
