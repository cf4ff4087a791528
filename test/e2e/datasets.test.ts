import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelJobDocument,
  type ColumnInput,
  DatasetDocument,
  DatasetsExtraJobWithRowsDocument,
  type DatasetsExtraJobWithRowsQuery,
  DatasetsExtraListDocument,
  IngestDocument,
  type IngestMode,
  type JobFieldsFragment,
  JobIssuesDocument,
  JobsDocument,
} from '../generated/graphql';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, peopleFileForSuite, personLine, tempDir, writeGeneratedCsv, writeText } from '../helpers/files';
import { allRows, ingest, jobCount, submit } from '../helpers/queries';
import { startServer, TERMINAL, type TestServer, waitForJob } from '../helpers/server';
import { storedRows } from '../helpers/store';

/** The shape the dataset keeps from PERSON_COLUMNS: name, type and required, in order. */
const personShape = PERSON_COLUMNS.map((c) => ({ name: c.name, type: c.type, required: 'required' in c ? c.required : false }));

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A CSV field, always quoted, with inner quotes doubled (RFC 4180). */
const field = (value: string) => `"${value.replace(/"/g, '""')}"`;
const csvLine = (values: readonly string[]) => values.map(field).join(',');

/** A people file holding exactly the rows with these ids (personLine(id) for each). */
async function peopleFile(ids: readonly number[], name = 'people.csv'): Promise<string> {
  return writeText(name, `${PERSON_HEADER}\n${ids.map(personLine).join('\n')}\n`);
}

/** Ingests exactly these people rows and expects the job to complete with all of them. */
async function ingestPeople(server: TestServer, dataset: string, ids: readonly number[], mode: IngestMode = 'APPEND'): Promise<JobFieldsFragment> {
  const job = await ingest(server.client, { dataset, columns: PERSON_COLUMNS, mode }, await peopleFile(ids));
  expect(job.status).toBe('COMPLETED');
  expect(job.result).toMatchObject({ rowsWritten: ids.length, rowsRejected: 0 });
  return job;
}

/** The dataset as a client sees it: count, shape and every visible row (values only), checked for consistency. */
async function snapshot(server: TestServer, dataset: string, pageSize = 1000) {
  const { dataset: found } = await server.client.request(DatasetDocument, { name: dataset, first: 0 });
  expect(found).not.toBeNull();
  const rows = await allRows(server.client, dataset, pageSize);
  expect(found!.rows.totalCount).toBe(found!.rowCount);
  expect(rows).toHaveLength(found!.rowCount);
  const numbers = rows.map((r) => r.row);
  expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  expect(new Set(numbers).size).toBe(numbers.length);
  return { rowCount: found!.rowCount, columns: found!.columns, values: rows.map((r) => r.values) };
}

/** Waits for the purger: only the visible rows are left in the table, and no hidden range. */
async function waitForPurge(server: TestServer, dataset: string, visibleRows: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await storedRows(server.dataDir, dataset);
  while ((last.rows !== visibleRows || last.hiddenRanges !== 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await storedRows(server.dataDir, dataset);
  }
  expect(last).toEqual({ rows: visibleRows, hiddenRanges: 0 });
}

type Moment = DatasetsExtraJobWithRowsQuery;

/**
 * Polls the job and its dataset's first rows in ONE request until `until` holds for that response;
 * fails at once if the job ends first.
 */
async function observe(server: TestServer, id: string, dataset: string, until: (moment: Moment) => boolean, timeoutMs = 60_000): Promise<Moment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const moment = await server.client.request(DatasetsExtraJobWithRowsDocument, { id, dataset, first: 10 });
    if (until(moment)) return moment;
    if (TERMINAL.has(moment.job!.status) || Date.now() > deadline) {
      throw new Error(`the awaited moment never came; last seen ${JSON.stringify(moment)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const runningWithRowsWritten = (moment: Moment) => moment.job!.status === 'RUNNING' && moment.job!.progress.rowsWritten > 0;

const BIG_ROWS = 300_000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('APPEND', () => {
  it('adds the rows of two jobs up, in order; the second job without columns uses the dataset columns', async () => {
    await ingestPeople(server, 'append', range(1, 3));
    expect(await snapshot(server, 'append')).toEqual({ rowCount: 3, columns: personShape, values: range(1, 3).map(expectedPerson) });

    // Columns reordered and `active` left blank: inferring would give another shape (and a SCHEMA_MISMATCH);
    // the dataset's columns match the header by name instead.
    const reordered = ['active', 'joined', 'amount', 'email', 'name', 'id'];
    const lines = range(4, 7).map((i) => {
      const person = expectedPerson(i);
      return csvLine(['', String(person.joined), (i * 1.25).toFixed(2), String(person.email), String(person.name), String(i)]);
    });
    const second = await ingest(server.client, { dataset: 'append' }, await writeText('more.csv', `${reordered.join(',')}\n${lines.join('\n')}\n`));
    expect(second.status).toBe('COMPLETED');
    expect(second.result).toMatchObject({ rowsWritten: 4, rowsRejected: 0 });
    expect(second.messages.map((m) => m.key)).not.toContain('columns'); // nothing was inferred

    const after = await snapshot(server, 'append');
    expect(after.rowCount).toBe(7);
    expect(after.columns).toEqual(personShape);
    expect(after.values).toEqual([...range(1, 3).map(expectedPerson), ...range(4, 7).map((i) => ({ ...expectedPerson(i), active: null }))]);
  });
});

describe('REPLACE', () => {
  it("replaces every earlier row with the job's rows", async () => {
    await ingestPeople(server, 'replace', range(1, 4));
    await ingestPeople(server, 'replace', range(5, 6));
    const before = await allRows(server.client, 'replace');
    expect(before.map((r) => r.values)).toEqual(range(1, 6).map(expectedPerson));

    // The UNIQUE id column does not see the rows being replaced: id 1 may come back.
    const replacing = await ingestPeople(server, 'replace', [101, 1, 102], 'REPLACE');
    expect(replacing.dataset.rowCount).toBe(3);
    const after = await snapshot(server, 'replace', 2);
    expect(after).toEqual({ rowCount: 3, columns: personShape, values: [101, 1, 102].map(expectedPerson) });
    const rows = await allRows(server.client, 'replace');
    expect(Math.min(...rows.map((r) => r.row))).toBeGreaterThan(Math.max(...before.map((r) => r.row)));
    await waitForPurge(server, 'replace', 3);
  });

  it('of zero valid rows empties the dataset, whether every row is rejected or the file has only a header', async () => {
    await ingestPeople(server, 'emptied', range(1, 3));
    const rejected = await ingest(
      server.client,
      { dataset: 'emptied', mode: 'REPLACE' },
      await writeText('bad.csv', `${PERSON_HEADER}\n4,Four,not-an-email,1,2024-01-01,true\n,Five,five@example.com,1,2024-01-01,true\n`),
    );
    expect(rejected.status).toBe('COMPLETED');
    expect(rejected.result).toMatchObject({ rowsWritten: 0, rowsRejected: 2 });
    expect(await snapshot(server, 'emptied')).toEqual({ rowCount: 0, columns: personShape, values: [] });

    await ingestPeople(server, 'emptied', range(6, 7));
    expect((await snapshot(server, 'emptied')).values).toEqual(range(6, 7).map(expectedPerson));
    const headerOnly = await ingest(server.client, { dataset: 'emptied', mode: 'REPLACE' }, await writeText('header.csv', `${PERSON_HEADER}\n`));
    expect(headerOnly.status).toBe('COMPLETED');
    expect(headerOnly.result).toMatchObject({ rowsWritten: 0, rowsRejected: 0 });
    expect(await snapshot(server, 'emptied')).toEqual({ rowCount: 0, columns: personShape, values: [] });
    await waitForPurge(server, 'emptied', 0);
  });
});

describe('rows of a running job', () => {
  const bigFile = peopleFileForSuite(BIG_ROWS);
  const oldIds = range(1_000_001, 1_000_005);

  it.each(['APPEND', 'REPLACE'] as const)('stay invisible until the %s job completes; the old rows stay visible meanwhile', async (mode) => {
    const dataset = `running-${mode}`;
    await ingestPeople(server, dataset, oldIds);
    const job = await submit(server.client, { dataset, columns: PERSON_COLUMNS, mode }, bigFile());

    const moment = await observe(server, job.id, dataset, runningWithRowsWritten);
    expect(moment.job!.progress.rowsWritten).toBeGreaterThan(0);
    expect(moment.job!.progress.rowsWritten).toBeLessThan(BIG_ROWS);
    expect(moment.job!.dataset.rowCount).toBe(5);
    expect(moment.dataset!.rowCount).toBe(5);
    expect(moment.dataset!.rows.totalCount).toBe(5);
    expect(moment.dataset!.rows.pageInfo.hasNextPage).toBe(false);
    expect(moment.dataset!.rows.edges.map((edge) => edge.node.values)).toEqual(oldIds.map(expectedPerson));

    const done = await waitForJob(server.client, job.id, undefined, 180_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toMatchObject({ rowsWritten: BIG_ROWS, rowsRejected: 0 });
    const { dataset: after } = await server.client.request(DatasetDocument, { name: dataset, first: 10 });
    const expectedCount = mode === 'APPEND' ? BIG_ROWS + 5 : BIG_ROWS;
    expect(after!.rowCount).toBe(expectedCount);
    expect(after!.rows.totalCount).toBe(expectedCount);
    const firstIds = mode === 'APPEND' ? [...oldIds, ...range(1, 5)] : range(1, 10);
    expect(after!.rows.edges.map((edge) => edge.node.values)).toEqual(firstIds.map(expectedPerson));
  }, 300_000);
});

describe('schema mismatch', () => {
  it('refuses an APPEND whose columns differ from the dataset columns with SCHEMA_MISMATCH, creating nothing', async () => {
    await ingestPeople(server, 'shaped', range(1, 3));
    const jobsBefore = await jobCount(server.client, { dataset: 'shaped' });
    const variants: ColumnInput[][] = [
      PERSON_COLUMNS.map((c) => (c.name === 'id' ? { ...c, type: 'STRING' } : c)), // another type
      [...PERSON_COLUMNS].reverse(), // another order
      PERSON_COLUMNS.slice(0, 5), // a column fewer
      [...PERSON_COLUMNS, { name: 'extra', type: 'STRING' }], // a column more
      PERSON_COLUMNS.map((c) => (c.name === 'email' ? { ...c, name: 'mail' } : c)), // another name
    ];
    const file = await peopleFile(range(4, 5));
    for (const columns of variants) {
      const answer = await server.client.upload(IngestDocument, { input: { dataset: 'shaped', columns } }, file);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.ingest.job).toBeNull();
      expect(answer.data!.ingest.userErrors).toEqual([{ code: 'SCHEMA_MISMATCH', field: ['input', 'columns'], message: expect.any(String) }]);
    }
    expect(await jobCount(server.client, { dataset: 'shaped' })).toBe(jobsBefore);
    expect(await snapshot(server, 'shaped')).toEqual({ rowCount: 3, columns: personShape, values: range(1, 3).map(expectedPerson) });
  });

  it('fails a job whose columns differ from those an earlier queued job settled with SCHEMA_MISMATCH, the first job untouched', async () => {
    // Both are accepted while the dataset has no columns yet; the first to run settles them by inference.
    // The first is large enough to be running still when the second is submitted (a small one on a warm
    // thread is over in milliseconds, and the second would then be refused at once, not failed queued).
    const firstFile = join(await tempDir(), 'settle-a.csv');
    await writeGeneratedCsv(firstFile, 'id,name', 200_000, (i) => `${i},name ${i}`);
    const first = await submit(server.client, { dataset: 'settled-first' }, firstFile);
    const columns: ColumnInput[] = [
      { name: 'code', type: 'STRING' },
      { name: 'amount', type: 'DECIMAL' },
    ];
    const second = await submit(server.client, { dataset: 'settled-first', columns }, await writeText('settle-b.csv', 'code,amount\nx,1.5\n'));
    expect(await waitForJob(server.client, first.id)).toMatchObject({ status: 'COMPLETED' });
    expect(await waitForJob(server.client, second.id)).toMatchObject({ status: 'FAILED', error: { code: 'SCHEMA_MISMATCH' } });
    const { dataset } = await server.client.request(DatasetDocument, { name: 'settled-first' });
    expect(dataset).toMatchObject({ rowCount: 200_000, columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] });
  });

  it("fails a job without columns whose header lacks the dataset's required columns with MISSING_COLUMNS", async () => {
    await ingestPeople(server, 'headers', range(1, 3));
    const other = await ingest(server.client, { dataset: 'headers' }, await writeText('other.csv', 'code,label\nA,x\nB,y\n'));
    expect(other.status).toBe('FAILED');
    expect(other.error?.code).toBe('MISSING_COLUMNS');
    expect(other.error?.message).toContain('id, name, email');

    // A header lacking only optional columns fits: their values are left empty, with a warning each.
    const partial = await ingest(server.client, { dataset: 'headers' }, await writeText('partial.csv', 'name,id,email,note\n"Four",4,four@example.com,hello\n'));
    expect(partial.status).toBe('COMPLETED');
    const { job } = await server.client.request(JobIssuesDocument, { id: partial.id, first: 10 });
    expect(job!.issues.edges.map((edge) => [edge.node.code, edge.node.column])).toEqual(
      expect.arrayContaining([
        ['MISSING_COLUMN', 'amount'],
        ['MISSING_COLUMN', 'joined'],
        ['MISSING_COLUMN', 'active'],
        ['EXTRA_COLUMN', 'note'],
      ]),
    );
    expect(await snapshot(server, 'headers')).toEqual({
      rowCount: 4,
      columns: personShape,
      values: [...range(1, 3).map(expectedPerson), { id: 4, name: 'Four', email: 'four@example.com', amount: null, joined: null, active: null }],
    });
  });
});

describe('names are data, never SQL', () => {
  const datasetNames = [`Robert'); DROP TABLE jobs; --`, 'Données 🚀', '名前', `with space, "double" and 'single'; quotes`];
  // Also names that are special as keys of JavaScript objects, since rows' values are keyed by name.
  const columnNames = ['first name', 'say "hi"', "it's", 'a;b', '); DROP TABLE jobs; --', 'Données 🚀', '名前', '__proto__', 'constructor', 'toString'];
  const columns: ColumnInput[] = columnNames.map((name) => ({ name, type: name === '名前' ? 'INTEGER' : 'STRING', required: true }));
  const shape = columns.map(({ name, type }) => ({ name, type, required: true }));
  const cells = (n: number) => [`Ada ${n}`, `he said "hi" ${n}`, `O'Brien ${n}`, `x;y ${n}`, `'); DROP TABLE datasets; -- ${n}`, `émoji 🎉 ${n}`, String(n), `p${n}`, `c${n}`, `t${n}`];
  const expectedValues = (n: number) => Object.fromEntries(columnNames.map((name, i) => [name, name === '名前' ? n : cells(n)[i]]));

  it('work end to end: ingest (given or inferred columns), dataset(name), datasets, rows keyed by them', async () => {
    for (const [index, name] of datasetNames.entries()) {
      const first = await writeText('weird.csv', `${csvLine(columnNames)}\n${csvLine(cells(1))}\n${csvLine(cells(2))}\n`);
      // Half the datasets get their columns from the caller, half from the header.
      const created = await ingest(server.client, { dataset: name, ...(index % 2 === 0 ? { columns } : {}) }, first);
      expect(created.status).toBe('COMPLETED');
      expect(created.dataset).toEqual({ name, rowCount: 2 });

      // A second job without columns, with the header reversed: matched to the dataset's columns by name.
      const reversed = [...columnNames.keys()].reverse();
      const line = (n: number) => csvLine(reversed.map((i) => cells(n)[i]));
      const more = await writeText('more.csv', `${csvLine(reversed.map((i) => columnNames[i]))}\n${line(3)}\n${line(4)}\n`);
      const appended = await ingest(server.client, { dataset: name }, more);
      expect(appended.status).toBe('COMPLETED');
      expect(appended.issueCounts).toEqual({ errors: 0, warnings: 0 });

      expect(await snapshot(server, name, 3)).toEqual({ rowCount: 4, columns: shape, values: range(1, 4).map(expectedValues) });
      expect(await jobCount(server.client, { dataset: name })).toBe(2);
    }
    const { datasets } = await server.client.request(DatasetsExtraListDocument);
    for (const name of datasetNames) {
      expect(datasets.filter((d) => d.name === name)).toEqual([{ name, rowCount: 4, columns: shape, rows: { totalCount: 4 } }]);
    }
    // The jobs table is still there and complete.
    const { jobs } = await server.client.request(JobsDocument, { first: 1000 });
    for (const name of datasetNames) expect(jobs.edges.filter((edge) => edge.node.dataset.name === name)).toHaveLength(2);
  });
});

describe('datasets query', () => {
  it("lists the workspace's datasets with columns and rowCount; an unknown name is null", async () => {
    const own = await startServer();
    try {
      await ingestPeople(own, 'beta', range(1, 2));
      await ingestPeople(own, 'alpha', range(1, 3));
      await ingestPeople(own, 'alpha', range(4, 4));
      await ingestPeople(own, 'gamma', range(1, 2));
      await ingest(own.client, { dataset: 'gamma', mode: 'REPLACE' }, await writeText('header.csv', `${PERSON_HEADER}\n`));
      const inferred = await ingest(own.client, { dataset: 'inferred' }, await writeText('inferred.csv', 'code,amount\nA,1.5\nB,\n'));
      expect(inferred.status).toBe('COMPLETED');

      const { datasets } = await own.client.request(DatasetsExtraListDocument);
      expect([...datasets].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'alpha', rowCount: 4, columns: personShape, rows: { totalCount: 4 } },
        { name: 'beta', rowCount: 2, columns: personShape, rows: { totalCount: 2 } },
        { name: 'gamma', rowCount: 0, columns: personShape, rows: { totalCount: 0 } },
        {
          name: 'inferred',
          rowCount: 2,
          columns: [
            { name: 'code', type: 'STRING', required: true },
            { name: 'amount', type: 'DECIMAL', required: false },
          ],
          rows: { totalCount: 2 },
        },
      ]);

      // No prefix, pattern or padding matches a name.
      for (const name of ['unknown', 'alph', 'alpha ', '', '%', 'alph_', '*']) {
        expect((await own.client.request(DatasetDocument, { name })).dataset).toBeNull();
      }
    } finally {
      await own.stop();
    }
  });

  it('pages dataset.rows with first/after, pageInfo and totalCount = rowCount', async () => {
    await ingestPeople(server, 'paged', range(1, 4));
    // A failed job between the two that complete leaves a gap in row numbers (until purged).
    const failing = await ingest(server.client, { dataset: 'paged', columns: PERSON_COLUMNS, maxErrors: 0 }, await peopleFile([100, 101, 1]));
    expect(failing.status).toBe('FAILED');
    await ingestPeople(server, 'paged', range(5, 7));

    const page = (after?: string | null, first = 3) => server.client.request(DatasetDocument, { name: 'paged', first, after }).then((r) => r.dataset!);
    const ids = (p: Awaited<ReturnType<typeof page>>) => p.rows.edges.map((edge) => edge.node.values.id);

    const one = await page();
    expect(one.rowCount).toBe(7);
    expect(ids(one)).toEqual([1, 2, 3]);
    expect(one.rows.totalCount).toBe(7);
    expect(one.rows.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, endCursor: one.rows.edges[2].cursor });

    const two = await page(one.rows.pageInfo.endCursor);
    expect(ids(two)).toEqual([4, 5, 6]);
    expect(two.rows.totalCount).toBe(7);
    expect(two.rows.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true, endCursor: two.rows.edges[2].cursor });

    const three = await page(two.rows.pageInfo.endCursor);
    expect(ids(three)).toEqual([7]);
    expect(three.rows.totalCount).toBe(7);
    expect(three.rows.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, endCursor: three.rows.edges[0].cursor });

    const past = await page(three.rows.pageInfo.endCursor);
    expect(past.rows.edges).toEqual([]);
    expect(past.rows.pageInfo).toMatchObject({ hasNextPage: false, endCursor: null });
    expect(past.rows.totalCount).toBe(7);

    expect((await page(null, 7)).rows.pageInfo.hasNextPage).toBe(false);
    expect((await page(null, 6)).rows.pageInfo.hasNextPage).toBe(true);
    const rows = [...one.rows.edges, ...two.rows.edges, ...three.rows.edges].map((edge) => edge.node);
    expect(rows.map((r) => r.values)).toEqual(range(1, 7).map(expectedPerson));
    expect(new Set(rows.map((r) => r.row)).size).toBe(7);
  });
});

describe('after a failed or cancelled job', () => {
  // Small batches: a job that fails late has written many batches first; one job at a time, so
  // that jobs can be held PENDING behind another.
  let small: TestServer;
  const bigFile = peopleFileForSuite(BIG_ROWS);
  beforeAll(async () => {
    small = await startServer({ batchRows: 100, maxConcurrentJobs: 1 });
  });
  afterAll(async () => {
    await small?.stop();
  });

  /** 3000 people (ids 1001..4000) of which only the 2900th is invalid. */
  async function lateBadFile(): Promise<string> {
    const path = join(await tempDir(), 'late-bad.csv');
    await writeGeneratedCsv(path, PERSON_HEADER, 3000, (i) => (i === 2900 ? `${1000 + i},Bad,not-an-email,1.00,2024-01-01,true` : personLine(1000 + i)));
    return path;
  }

  it.each(['APPEND', 'REPLACE'] as const)('%s: a job failing with TOO_MANY_ERRORS leaves the dataset as it was; a later APPEND adds exactly its rows', async (mode) => {
    const dataset = `failed-${mode}`;
    await ingestPeople(small, dataset, range(1, 5));
    const before = await snapshot(small, dataset);

    const failed = await ingest(small.client, { dataset, columns: PERSON_COLUMNS, mode, maxErrors: 0 }, await lateBadFile());
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('TOO_MANY_ERRORS');
    expect(failed.progress).toMatchObject({ processedRows: 2900, rowsWritten: 2899, rowsRejected: 1 });
    expect(failed.result).toBeNull();
    expect(failed.dataset.rowCount).toBe(5);
    expect(await snapshot(small, dataset, 2)).toEqual(before);
    await waitForPurge(small, dataset, 5);
    expect(await snapshot(small, dataset, 2)).toEqual(before);

    // Ids of the abandoned rows are free: they were never visible.
    await ingestPeople(small, dataset, [1001, 1002, 6]);
    expect(await snapshot(small, dataset, 2)).toEqual({ rowCount: 8, columns: personShape, values: [1, 2, 3, 4, 5, 1001, 1002, 6].map(expectedPerson) });
    await waitForPurge(small, dataset, 8);
  });

  it.each(['REPLACE', 'APPEND'] as const)('%s: cancelling a RUNNING job leaves the dataset as it was; a later APPEND adds exactly its rows', async (mode) => {
    const dataset = `cancelled-${mode}`;
    await ingestPeople(small, dataset, range(1_000_001, 1_000_005));
    const before = await snapshot(small, dataset);

    const job = await submit(small.client, { dataset, columns: PERSON_COLUMNS, mode }, bigFile());
    const moment = await observe(small, job.id, dataset, runningWithRowsWritten);
    expect(moment.dataset!.rowCount).toBe(5);
    const answer = await small.client.request(CancelJobDocument, { id: job.id });
    expect(answer.cancelJob.userErrors).toEqual([]);
    expect(answer.cancelJob.job).toMatchObject({ id: job.id, status: 'CANCELLED', error: { code: 'CANCELLED' }, result: null });
    expect(answer.cancelJob.job!.progress.rowsWritten).toBeGreaterThan(0);
    expect(answer.cancelJob.job!.progress.rowsWritten).toBeLessThan(BIG_ROWS);
    expect((await waitForJob(small.client, job.id)).status).toBe('CANCELLED');

    expect(await snapshot(small, dataset)).toEqual(before);
    await waitForPurge(small, dataset, 5);
    expect(await snapshot(small, dataset)).toEqual(before);

    await ingestPeople(small, dataset, [1, 2, 3]);
    expect(await snapshot(small, dataset)).toEqual({
      rowCount: 8,
      columns: personShape,
      values: [...range(1_000_001, 1_000_005), 1, 2, 3].map(expectedPerson),
    });
    await waitForPurge(small, dataset, 8);
  });

  it('fails jobs queued behind the first, inferring job of a new dataset when they do not fit the shape it set', async () => {
    // Hold the only job slot so that the next three jobs are all created before any of them runs.
    const blocker = await submit(small.client, { dataset: 'blocker', columns: PERSON_COLUMNS }, bigFile());
    await waitForJob(small.client, blocker.id, (job) => job.status === 'RUNNING');

    const inferred = await submit(small.client, { dataset: 'late-shape' }, await writeText('first.csv', 'a,b\n1,x\n2,y\n'));
    const typed = await submit(
      small.client,
      {
        dataset: 'late-shape',
        columns: [
          { name: 'a', type: 'STRING', required: true },
          { name: 'b', type: 'STRING', required: true },
        ],
      },
      await writeText('typed.csv', 'a,b\n3,z\n'),
    );
    const otherHeader = await submit(small.client, { dataset: 'late-shape' }, await writeText('other.csv', 'c,d\n4,w\n'));
    expect([inferred.status, typed.status, otherHeader.status]).toEqual(['PENDING', 'PENDING', 'PENDING']);

    expect((await small.client.request(CancelJobDocument, { id: blocker.id })).cancelJob.job?.status).toBe('CANCELLED');
    expect((await waitForJob(small.client, inferred.id)).status).toBe('COMPLETED');
    const typedDone = await waitForJob(small.client, typed.id);
    expect(typedDone.status).toBe('FAILED');
    expect(typedDone.error?.code).toBe('SCHEMA_MISMATCH');
    const otherDone = await waitForJob(small.client, otherHeader.id);
    expect(otherDone.status).toBe('FAILED');
    expect(otherDone.error?.code).toBe('MISSING_COLUMNS');

    expect(await snapshot(small, 'late-shape')).toEqual({
      rowCount: 2,
      columns: [
        { name: 'a', type: 'INTEGER', required: true },
        { name: 'b', type: 'STRING', required: true },
      ],
      values: [
        { a: 1, b: 'x' },
        { a: 2, b: 'y' },
      ],
    });
  });
});
