import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import {
  CancelJobDocument,
  type ColumnInput,
  DatasetDocument,
  IngestDocument,
  type JobFieldsFragment,
  JobCountDocument,
  JobDocument,
  JobsApiDatasetCountDocument,
  JobsApiNodeDocument,
  JobsDocument,
  type JobStatus,
} from '../generated/graphql';
import { PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv, writeText } from '../helpers/files';
import { type IngestFileInput, jobCount, submit, submitRefused } from '../helpers/queries';
import { TEST_ENGINE } from '../helpers/engine';
import { healthUrl, heldUploads, NO_UPLOADS, startServer, TERMINAL, type TestServer, until, uploadsGone, waitForJob } from '../helpers/server';


/** Rows of the large file: long enough (tens of seconds) that a job is reliably observed RUNNING. */
const LARGE_ROWS = 300_000;

const generated = new Map<number, Promise<string>>();
/** A people CSV of `rows` rows, generated once per size for the whole file. */
function peopleCsv(rows: number): Promise<string> {
  let path = generated.get(rows);
  if (!path) {
    path = tempDir().then(async (dir) => {
      const file = join(dir, `people-${rows}.csv`);
      await writeGeneratedCsv(file, PERSON_HEADER, rows, personLine);
      return file;
    });
    generated.set(rows, path);
  }
  return path;
}

const ms = (iso: string | null) => (iso === null ? Number.NaN : Date.parse(iso));

describe('ingest userErrors', () => {
  let server: TestServer;
  let okCsv: string;
  let emptyCsv: string;
  const okColumns: ColumnInput[] = [
    { name: 'id', type: 'INTEGER', required: true },
    { name: 'name', type: 'STRING' },
  ];

  beforeAll(async () => {
    server = await startServer();
    okCsv = await writeText('ok.csv', 'id,name\n1,a\n2,b\n');
    emptyCsv = await writeText('empty.csv', '');
  });
  afterAll(async () => {
    await server?.stop();
  });

  /**
   * Submits an input that must be refused: no job, exactly the expected userErrors (code and field,
   * in any order, each with a message), no job or dataset created, nothing left in the spool.
   */
  async function expectRejected(input: IngestFileInput, path: string, expected: Array<{ code: string; field: string[] }>): Promise<void> {
    const jobsBefore = await jobCount(server.client);
    const { datasets: datasetsBefore } = await server.client.request(JobsApiDatasetCountDocument);

    const userErrors = await submitRefused(server.client, input, path);
    for (const error of userErrors) expect(error.message).toMatch(/\S/);
    expect(userErrors.map(({ code, field }) => ({ code, field }))).toHaveLength(expected.length);
    expect(userErrors.map(({ code, field }) => ({ code, field }))).toEqual(expect.arrayContaining(expected));

    expect(await jobCount(server.client)).toBe(jobsBefore);
    expect((await server.client.request(JobsApiDatasetCountDocument)).datasets).toEqual(datasetsBefore);
    expect(await heldUploads(server)).toEqual(NO_UPLOADS);
  }

  const nameField = ['input', 'dataset'];
  it.each([
    { why: 'empty', dataset: '' },
    { why: 'only spaces', dataset: '   ' },
    { why: 'a leading space', dataset: ' people' },
    { why: 'a trailing space', dataset: 'people ' },
    { why: 'a control character', dataset: 'peo\u0007ple' },
    { why: 'a line break', dataset: 'peo\nple' },
    { why: 'over 128 characters', dataset: 'd'.repeat(129) },
  ])('refuses a dataset name that is $why (INVALID_NAME)', async ({ dataset }) => {
    await expectRejected({ dataset, columns: okColumns }, okCsv, [{ code: 'INVALID_NAME', field: nameField }]);
  });

  it.each([
    { why: 'an empty list', columns: [], expected: [{ code: 'INVALID_COLUMN', field: ['input', 'columns'] }] },
    {
      why: 'a duplicate name, case-insensitively',
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: 'ID', type: 'STRING' },
      ],
      expected: [{ code: 'DUPLICATE_COLUMN', field: ['input', 'columns', '1', 'name'] }],
    },
    {
      why: 'min greater than max',
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: 'amount', type: 'DECIMAL', min: 10, max: 1 },
      ],
      expected: [{ code: 'INVALID_COLUMN', field: ['input', 'columns', '1', 'min'] }],
    },
    {
      why: 'a pattern on an INTEGER column',
      columns: [{ name: 'id', type: 'INTEGER', pattern: '^[0-9]+$' }],
      expected: [{ code: 'INVALID_COLUMN', field: ['input', 'columns', '0', 'pattern'] }],
    },
    {
      why: 'an empty values list',
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'STRING' },
        { name: 'kind', type: 'STRING', values: [] },
      ],
      expected: [{ code: 'INVALID_COLUMN', field: ['input', 'columns', '2', 'values'] }],
    },
    {
      why: 'an invalid regular expression',
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'STRING' },
        { name: 'email', type: 'EMAIL', pattern: '([a-z]+@' },
      ],
      expected: [{ code: 'INVALID_PATTERN', field: ['input', 'columns', '2', 'pattern'] }],
    },
    {
      why: 'an empty column name',
      columns: [
        { name: 'id', type: 'INTEGER' },
        { name: ' ', type: 'STRING' },
      ],
      expected: [{ code: 'INVALID_NAME', field: ['input', 'columns', '1', 'name'] }],
    },
  ] as Array<{ why: string; columns: ColumnInput[]; expected: Array<{ code: string; field: string[] }> }>)(
    'refuses column definitions with $why',
    async ({ columns, expected }) => {
      await expectRejected({ dataset: 'columns-refused', columns }, okCsv, expected);
    },
  );

  it.each([
    { why: 'a two-character delimiter', csv: { delimiter: ';;' }, expected: { code: 'INVALID_CSV_OPTION', field: ['input', 'csv', 'delimiter'] } },
    { why: 'a delimiter equal to the default quote', csv: { delimiter: '"' }, expected: { code: 'INVALID_CSV_OPTION', field: ['input', 'csv', 'quote'] } },
    { why: 'a delimiter equal to the quote', csv: { delimiter: "'", quote: "'" }, expected: { code: 'INVALID_CSV_OPTION', field: ['input', 'csv', 'quote'] } },
    { why: 'an unknown encoding', csv: { encoding: 'klingon-8' }, expected: { code: 'INVALID_ENCODING', field: ['input', 'csv', 'encoding'] } },
  ])('refuses CSV options with $why', async ({ csv, expected }) => {
    await expectRejected({ dataset: 'csv-refused', columns: okColumns, csv }, okCsv, [expected]);
  });

  it('refuses maxErrors -1 (INVALID_MAX_ERRORS)', async () => {
    await expectRejected({ dataset: 'max-errors', columns: okColumns, maxErrors: -1 }, okCsv, [{ code: 'INVALID_MAX_ERRORS', field: ['input', 'maxErrors'] }]);
  });

  it('refuses an empty file (EMPTY_FILE)', async () => {
    await expectRejected({ dataset: 'empty-file', columns: okColumns }, emptyCsv, [{ code: 'EMPTY_FILE', field: ['input', 'file'] }]);
  });

  it('refuses a CSV declared as XLSX (FORMAT_MISMATCH)', async () => {
    await expectRejected({ dataset: 'declared-xlsx', format: 'XLSX' }, okCsv, [{ code: 'FORMAT_MISMATCH', field: ['input', 'format'] }]);
  });

  it('reports every problem of an input at once', async () => {
    await expectRejected(
      {
        dataset: ' spaced',
        columns: [
          { name: 'id', type: 'INTEGER', pattern: 'x' },
          { name: 'Id', type: 'STRING', pattern: '(' },
          { name: 'n', type: 'INTEGER', min: 5, max: 1 },
        ],
        csv: { delimiter: 'ab', encoding: 'nope' },
        maxErrors: -1,
      },
      emptyCsv,
      [
        { code: 'INVALID_NAME', field: ['input', 'dataset'] },
        { code: 'INVALID_COLUMN', field: ['input', 'columns', '0', 'pattern'] },
        { code: 'DUPLICATE_COLUMN', field: ['input', 'columns', '1', 'name'] },
        { code: 'INVALID_PATTERN', field: ['input', 'columns', '1', 'pattern'] },
        { code: 'INVALID_COLUMN', field: ['input', 'columns', '2', 'min'] },
        { code: 'INVALID_CSV_OPTION', field: ['input', 'csv', 'delimiter'] },
        { code: 'INVALID_ENCODING', field: ['input', 'csv', 'encoding'] },
        { code: 'INVALID_MAX_ERRORS', field: ['input', 'maxErrors'] },
        { code: 'EMPTY_FILE', field: ['input', 'file'] },
      ],
    );
  });

  it("refuses columns that contradict an existing dataset's columns (SCHEMA_MISMATCH)", async () => {
    const first = await submit(server.client, { dataset: 'existing', columns: okColumns }, okCsv);
    expect((await waitForJob(server.client, first.id)).status).toBe('COMPLETED');
    // The completed job's spooled file is removed after it ends.
    await uploadsGone(server, 60_000);

    const mismatches: ColumnInput[][] = [
      [
        { name: 'id', type: 'STRING', required: true },
        { name: 'name', type: 'STRING' },
      ],
      [
        { name: 'name', type: 'STRING' },
        { name: 'id', type: 'INTEGER', required: true },
      ],
      [...okColumns, { name: 'extra', type: 'STRING' }],
    ];
    for (const columns of mismatches) {
      await expectRejected({ dataset: 'existing', columns }, okCsv, [{ code: 'SCHEMA_MISMATCH', field: ['input', 'columns'] }]);
    }
    const { dataset } = await server.client.request(DatasetDocument, { name: 'existing' });
    expect(dataset).toMatchObject({ rowCount: 2, columns: [{ name: 'id', type: 'INTEGER', required: true }, { name: 'name', type: 'STRING', required: false }] });
    expect(await jobCount(server.client, { dataset: 'existing' })).toBe(1);
  });

  it.each([
    { why: 'a plain JSON string', file: 'people.csv' },
    { why: 'an object imitating a spooled upload', file: { path: '/etc/passwd', name: 'passwd', size: 1, sha256: 'x', head: 'x' } },
  ])('answers a GraphQL error, not a crash, when `file` is $why instead of a multipart upload', async ({ file }) => {
    const jobsBefore = await jobCount(server.client);
    const answer = await server.client.raw(IngestDocument, { input: { file, dataset: 'json-file', columns: okColumns } });
    expect(answer.status).toBeGreaterThanOrEqual(200);
    expect(answer.status).toBeLessThan(500);
    expect(answer.data?.ingest ?? null).toBeNull();
    expect(answer.errors?.length).toBeGreaterThan(0);
    expect(answer.errors![0].message).toMatch(/multipart/i);
    expect(answer.errors![0].message).not.toMatch(/Unexpected error/);

    // Nothing was created, and the service still answers.
    expect(await jobCount(server.client)).toBe(jobsBefore);
    expect((await server.client.request(DatasetDocument, { name: 'json-file' })).dataset).toBeNull();
    expect((await fetch(healthUrl(server))).status).toBe(200);
    expect(await heldUploads(server)).toEqual(NO_UPLOADS);
  });
});

describe('cancelJob', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ maxConcurrentJobs: 1 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('cancels a PENDING job at once, and a RUNNING one whose rows never become visible', async () => {
    const large = await peopleCsv(LARGE_ROWS);
    const small = await writeText('small.csv', `${PERSON_HEADER}\n${personLine(1)}\n${personLine(2)}\n`);
    const running = await submit(server.client, { dataset: 'cancel-large', columns: PERSON_COLUMNS }, large);
    const waiting = await submit(server.client, { dataset: 'cancel-small', columns: PERSON_COLUMNS }, small);

    // One job at a time: the second waits while the first runs.
    await waitForJob(server.client, running.id, (job) => job.status === 'RUNNING');
    const pending = (await server.client.request(JobDocument, { id: waiting.id })).job!;
    expect(pending).toMatchObject({ status: 'PENDING', startedAt: null, attempts: 0 });

    const cancelledPending = await server.client.request(CancelJobDocument, { id: waiting.id });
    expect(cancelledPending.cancelJob.userErrors).toEqual([]);
    expect(cancelledPending.cancelJob.job).toMatchObject({ id: waiting.id, status: 'CANCELLED', stage: 'cancelled', startedAt: null, result: null });
    expect(cancelledPending.cancelJob.job!.error?.code).toBe('CANCELLED');
    expect(cancelledPending.cancelJob.job!.completedAt).not.toBeNull();
    expect((await server.client.request(JobDocument, { id: running.id })).job!.status).toBe('RUNNING');

    const progressing = await waitForJob(server.client, running.id, (job) => TERMINAL.has(job.status) || job.progress.rowsWritten > 0);
    expect(progressing.status).toBe('RUNNING');
    const cancelledRunning = await server.client.request(CancelJobDocument, { id: running.id });
    expect(cancelledRunning.cancelJob.userErrors).toEqual([]);
    const cancelled = cancelledRunning.cancelJob.job!;
    expect(cancelled).toMatchObject({ id: running.id, status: 'CANCELLED', stage: 'cancelled', result: null });
    expect(cancelled.error?.code).toBe('CANCELLED');
    expect(cancelled.progress.processedRows).toBeLessThan(LARGE_ROWS);
    expect(cancelled.progress.percent).toBeLessThan(100);

    const { dataset } = await server.client.request(DatasetDocument, { name: 'cancel-large', first: 10 });
    expect(dataset!.rowCount).toBe(0);
    expect(dataset!.rows.totalCount).toBe(0);
    expect(dataset!.rows.edges).toEqual([]);

    // Both stay cancelled; the cancelled PENDING job never started.
    expect((await server.client.request(JobDocument, { id: running.id })).job).toMatchObject({ status: 'CANCELLED', dataset: { rowCount: 0 } });
    expect((await server.client.request(JobDocument, { id: waiting.id })).job).toMatchObject({ status: 'CANCELLED', startedAt: null, attempts: 0 });
    expect(await jobCount(server.client, { status: ['PENDING', 'RUNNING'] })).toBe(0);

    // Cancelling again is refused: the job has ended.
    const again = await server.client.request(CancelJobDocument, { id: running.id });
    expect(again.cancelJob.userErrors.map(({ code, field }) => ({ code, field }))).toEqual([{ code: 'NOT_CANCELLABLE', field: ['id'] }]);
    expect(again.cancelJob.job).toMatchObject({ id: running.id, status: 'CANCELLED' });
  });

  it('refuses to cancel a COMPLETED or FAILED job (NOT_CANCELLABLE)', async () => {
    const small = await writeText('done.csv', `${PERSON_HEADER}\n${personLine(1)}\n`);
    const done = await submit(server.client, { dataset: 'cancel-done', columns: PERSON_COLUMNS }, small);
    expect((await waitForJob(server.client, done.id)).status).toBe('COMPLETED');
    const failing = await submit(server.client, { dataset: 'cancel-failed', columns: [...PERSON_COLUMNS, { name: 'missing', type: 'STRING', required: true }] }, small);
    const failed = await waitForJob(server.client, failing.id);
    expect(failed.status).toBe('FAILED');

    for (const [id, status] of [
      [done.id, 'COMPLETED'],
      [failing.id, 'FAILED'],
    ] as const) {
      const answer = await server.client.request(CancelJobDocument, { id });
      expect(answer.cancelJob.userErrors.map(({ code, field }) => ({ code, field }))).toEqual([{ code: 'NOT_CANCELLABLE', field: ['id'] }]);
      expect(answer.cancelJob.job).toMatchObject({ id, status });
      expect((await server.client.request(JobDocument, { id })).job!.status).toBe(status);
    }
    expect((await server.client.request(DatasetDocument, { name: 'cancel-done' })).dataset!.rowCount).toBe(1);
  });

  it.each([`job_${randomUUID()}`, 'not-a-job'])('answers NOT_FOUND for the unknown id %s', async (id) => {
    const answer = await server.client.request(CancelJobDocument, { id });
    expect(answer.cancelJob.job).toBeNull();
    expect(answer.cancelJob.userErrors.map(({ code, field }) => ({ code, field }))).toEqual([{ code: 'NOT_FOUND', field: ['id'] }]);
  });
});

describe('concurrency', () => {
  it('never runs more than maxConcurrentJobs (2) jobs at once, and completes them all', async () => {
    const server = await startServer({ maxConcurrentJobs: 2 });
    try {
      const rows = 60_000;
      const path = await peopleCsv(rows);
      const datasets = ['conc-1', 'conc-2', 'conc-3', 'conc-4'];
      const jobs = await Promise.all(datasets.map((dataset) => submit(server.client, { dataset, columns: PERSON_COLUMNS }, path)));

      let maxRunning = 0;
      const seen = new Set<JobStatus>();
      await until(
        async () => {
          maxRunning = Math.max(maxRunning, await jobCount(server.client, { status: ['RUNNING'] }));
          const { jobs: all } = await server.client.request(JobsDocument, { first: 10 });
          all.edges.forEach((edge) => seen.add(edge.node.status));
          return all.edges.map((edge) => edge.node.status);
        },
        (statuses) => statuses.length === 4 && statuses.every((status) => TERMINAL.has(status)),
        'all four jobs to end',
        120_000,
      );
      expect(maxRunning).toBeLessThanOrEqual(2);
      expect(maxRunning).toBe(2); // the limit was reached, so the observation above means something
      expect(seen.has('PENDING')).toBe(true);

      const ended = await Promise.all(jobs.map((job) => waitForJob(server.client, job.id)));
      for (const job of ended) {
        expect({ dataset: job.dataset.name, status: job.status, error: job.error }).toEqual({ dataset: job.dataset.name, status: 'COMPLETED', error: null });
        expect(job.progress).toMatchObject({ processedRows: rows, rowsWritten: rows, rowsRejected: 0 });
        expect(job.dataset.rowCount).toBe(rows);
      }
      // The recorded lifetimes agree: at no instant were more than two jobs between start and end.
      for (const job of ended) {
        const at = ms(job.startedAt);
        const alive = ended.filter((other) => ms(other.startedAt) <= at && at < ms(other.completedAt));
        expect(alive.length).toBeLessThanOrEqual(2);
      }
    } finally {
      await server.stop();
    }
  });

  it('with maxConcurrentJobs 1, starts jobs one at a time in arrival order', async () => {
    const server = await startServer({ maxConcurrentJobs: 1 });
    try {
      // The first job is long; the others are ever smaller, so any order but arrival order shows.
      const files = [await peopleCsv(100_000), await peopleCsv(3_000), await peopleCsv(2_000), await peopleCsv(1_000)];
      const jobs: JobFieldsFragment[] = [];
      for (const [i, path] of files.entries()) jobs.push(await submit(server.client, { dataset: `order-${i + 1}`, columns: PERSON_COLUMNS }, path));
      expect(await jobCount(server.client, { status: ['PENDING'] })).toBe(3);

      const ended = await Promise.all(jobs.map((job) => waitForJob(server.client, job.id, undefined, 120_000)));
      ended.forEach((job) => expect(job.status).toBe('COMPLETED'));
      const byStart = [...ended].sort((a, b) => ms(a.startedAt) - ms(b.startedAt));
      expect(byStart.map((job) => job.dataset.name)).toEqual(['order-1', 'order-2', 'order-3', 'order-4']);
      for (let i = 1; i < ended.length; i++) {
        expect(ms(ended[i].startedAt)).toBeGreaterThanOrEqual(ms(ended[i - 1].completedAt));
      }
    } finally {
      await server.stop();
    }
  });
});

describe('polling jobs', () => {
  let server: TestServer;
  const created: Array<{ id: string; dataset: string; status: JobStatus }> = [];

  beforeAll(async () => {
    server = await startServer();
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'name', type: 'STRING' },
    ];
    const good = await writeText('good.csv', 'id,name\n1,a\n2,b\n');
    const bad = await writeText('bad.csv', 'id,name\nnot-a-number,a\n');
    const plan: Array<[string, 'COMPLETED' | 'FAILED']> = [
      ['page-a', 'COMPLETED'],
      ['page-b', 'COMPLETED'],
      ['page-a', 'FAILED'],
      ['page-a', 'COMPLETED'],
      ['page-b', 'COMPLETED'],
      ['page-b', 'FAILED'],
      ['page-a', 'COMPLETED'],
    ];
    for (const [dataset, status] of plan) {
      const job = await submit(server.client, { dataset, columns, maxErrors: 0 }, status === 'COMPLETED' ? good : bad);
      const ended = await waitForJob(server.client, job.id);
      expect(ended.status).toBe(status);
      created.push({ id: job.id, dataset, status });
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('pages through jobs newest first, with totalCount and pageInfo', async () => {
    const newestFirst = [...created].reverse().map((job) => job.id);
    const pages: Array<{ ids: string[]; hasNextPage: boolean; hasPreviousPage: boolean }> = [];
    let after: string | null | undefined;
    for (;;) {
      const { jobs } = await server.client.request(JobsDocument, { first: 3, after });
      expect(jobs.totalCount).toBe(7);
      expect(jobs.pageInfo.startCursor).toBe(jobs.edges[0]?.cursor ?? null);
      expect(jobs.pageInfo.endCursor).toBe(jobs.edges.at(-1)?.cursor ?? null);
      pages.push({ ids: jobs.edges.map((edge) => edge.node.id), hasNextPage: jobs.pageInfo.hasNextPage, hasPreviousPage: jobs.pageInfo.hasPreviousPage });
      if (!jobs.pageInfo.hasNextPage) break;
      after = jobs.pageInfo.endCursor;
      expect(pages.length).toBeLessThan(5);
    }
    expect(pages).toEqual([
      { ids: newestFirst.slice(0, 3), hasNextPage: true, hasPreviousPage: false },
      { ids: newestFirst.slice(3, 6), hasNextPage: true, hasPreviousPage: true },
      { ids: newestFirst.slice(6), hasNextPage: false, hasPreviousPage: true },
    ]);

    const { jobs: exact } = await server.client.request(JobsDocument, { first: 7 });
    expect(exact.edges.map((edge) => edge.node.id)).toEqual(newestFirst);
    expect(exact.pageInfo.hasNextPage).toBe(false);

    const { jobs: byDefault } = await server.client.request(JobsDocument, {});
    expect(byDefault.edges.map((edge) => edge.node.id)).toEqual(newestFirst);

    const invalid = await server.client.raw(JobsDocument, { first: 3, after: 'not-a-cursor' });
    expect(invalid.errors?.[0].message).toMatch(/cursor/);
  });

  it('filters jobs by status and by dataset', async () => {
    const ids = (filter: (job: (typeof created)[number]) => boolean) =>
      [...created]
        .reverse()
        .filter(filter)
        .map((job) => job.id);
    const list = async (variables: { status?: JobStatus[]; dataset?: string; first?: number; after?: string | null }) => {
      const { jobs } = await server.client.request(JobsDocument, variables);
      return { totalCount: jobs.totalCount, ids: jobs.edges.map((edge) => edge.node.id), statuses: jobs.edges.map((edge) => edge.node.status), pageInfo: jobs.pageInfo };
    };

    expect(await list({ status: ['COMPLETED'] })).toMatchObject({ totalCount: 5, ids: ids((job) => job.status === 'COMPLETED') });
    expect(await list({ status: ['FAILED'] })).toMatchObject({ totalCount: 2, ids: ids((job) => job.status === 'FAILED') });
    expect(await list({ status: ['COMPLETED', 'FAILED'] })).toMatchObject({ totalCount: 7, ids: ids(() => true) });
    expect(await list({ status: ['PENDING', 'RUNNING', 'CANCELLED'] })).toMatchObject({ totalCount: 0, ids: [] });

    expect(await list({ dataset: 'page-a' })).toMatchObject({ totalCount: 4, ids: ids((job) => job.dataset === 'page-a') });
    expect(await list({ dataset: 'page-b' })).toMatchObject({ totalCount: 3, ids: ids((job) => job.dataset === 'page-b') });
    expect(await list({ dataset: 'page-b', status: ['FAILED'] })).toMatchObject({
      totalCount: 1,
      ids: ids((job) => job.dataset === 'page-b' && job.status === 'FAILED'),
    });
    expect(await list({ dataset: 'no-such-dataset' })).toMatchObject({ totalCount: 0, ids: [], pageInfo: { hasNextPage: false } });

    // A filtered list pages too.
    const firstPage = await list({ dataset: 'page-a', first: 3 });
    const secondPage = await list({ dataset: 'page-a', first: 3, after: firstPage.pageInfo.endCursor });
    expect(firstPage).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    expect(secondPage).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: false, hasPreviousPage: true } });
    expect([...firstPage.ids, ...secondPage.ids]).toEqual(ids((job) => job.dataset === 'page-a'));
  });

  it('resolves node(id) to the Job, and job(id) or node(id) of an unknown id to null', async () => {
    const { id, dataset, status } = created[2];
    const { node } = await server.client.request(JobsApiNodeDocument, { id });
    expect(node).toEqual({ __typename: 'Job', id, status, dataset: { name: dataset }, file: { name: 'upload' } });

    for (const unknown of [`job_${randomUUID()}`, 'not-a-job', '']) {
      expect((await server.client.request(JobDocument, { id: unknown })).job).toBeNull();
      expect((await server.client.request(JobsApiNodeDocument, { id: unknown })).node).toBeNull();
    }
  });

  it('reports progress while RUNNING: sequence and updatedAt advance, percent stays below 100 until COMPLETED', async () => {
    const rows = LARGE_ROWS / 2;
    const path = await peopleCsv(rows);
    const accepted = await submit(server.client, { dataset: 'progress', columns: PERSON_COLUMNS }, path);
    const seen: JobFieldsFragment[] = [];
    const ended = await waitForJob(
      server.client,
      accepted.id,
      (job) => {
        seen.push(job);
        return TERMINAL.has(job.status);
      },
      120_000,
    );
    expect(ended.status).toBe('COMPLETED');

    const running = seen.filter((job) => job.status === 'RUNNING' && job.progress.rowsWritten > 0);
    expect(running.length).toBeGreaterThanOrEqual(2);
    const [first, last] = [running[0], running.at(-1)!];
    expect(last.sequence).toBeGreaterThan(first.sequence);
    expect(ms(last.updatedAt)).toBeGreaterThan(ms(first.updatedAt));
    expect(last.progress.processedRows).toBeGreaterThan(first.progress.processedRows);

    for (const [i, job] of seen.entries()) {
      if (job.status !== 'COMPLETED') expect(job.progress.percent).toBeLessThan(100);
      expect(job.progress.percent).toBeGreaterThanOrEqual(0);
      expect(job.stalled).toBe(false);
      if (i > 0) {
        expect(job.sequence).toBeGreaterThanOrEqual(seen[i - 1].sequence);
        expect(ms(job.updatedAt)).toBeGreaterThanOrEqual(ms(seen[i - 1].updatedAt));
        expect(job.progress.processedRows).toBeGreaterThanOrEqual(seen[i - 1].progress.processedRows);
      }
    }
    expect(running.every((job) => job.startedAt !== null && job.completedAt === null && job.result === null)).toBe(true);

    expect(ended.progress).toMatchObject({ percent: 100, processedRows: rows, totalRows: rows, rowsWritten: rows });
    expect(ended.stalled).toBe(false);
    expect(ended.sequence).toBeGreaterThan(last.sequence);
    expect(ms(ended.updatedAt)).toBeGreaterThanOrEqual(ms(last.updatedAt));
  });

  it('answers job(id) quickly while a large ingest runs', async () => {
    const path = await peopleCsv(LARGE_ROWS);
    const accepted = await submit(server.client, { dataset: 'latency', columns: PERSON_COLUMNS }, path);
    await waitForJob(server.client, accepted.id, (job) => TERMINAL.has(job.status) || job.progress.rowsWritten > 0);

    const latencies: number[] = [];
    const statuses: JobStatus[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const { job } = await server.client.request(JobDocument, { id: accepted.id });
      latencies.push(performance.now() - started);
      statuses.push(job!.status);
    }
    // Measured while the ingest was running, not after it.
    expect(statuses).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    for (const latency of latencies) expect(latency).toBeLessThan(1000);

    const { cancelJob } = await server.client.request(CancelJobDocument, { id: accepted.id });
    expect(cancelJob.job!.status).toBe('CANCELLED');
  });

  it('answers GET /health with JSON { status: ok, store and engine: the engine serving, version }', async () => {
    const response = await fetch(healthUrl(server));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', store: TEST_ENGINE, engine: TEST_ENGINE, version: packageJson.version });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('unexpected errors', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('are masked for the client and logged with their detail', async () => {
    const failure = new Error('secret detail of a broken store');
    const list = vi.spyOn(server.app.services.jobs, 'list').mockImplementation(() => {
      throw failure;
    });
    const logged = vi.spyOn(server.app.log, 'error');
    try {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...server.client.authorization },
        body: JSON.stringify({ query: '{ jobs { totalCount } }' }),
      });
      const text = await response.text();
      expect(JSON.parse(text).errors).toEqual([expect.objectContaining({ message: 'Unexpected error.' })]);
      expect(text).not.toContain('secret detail');
      expect(text).not.toContain('.ts:');
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ err: failure }), expect.any(String));
    } finally {
      list.mockRestore();
      logged.mockRestore();
    }
    // The server goes on serving.
    expect((await server.client.request(JobCountDocument, {})).jobs.totalCount).toBe(0);
  });
});

describe('cancelJob racing the end of the job', () => {
  // One batch for the whole file and no progress commits: a job shows no processed row until its
  // worker has read the file and commits everything at the end, just before it reports `finished`.
  // Short rows: the whole file stays under the bytes that make a batch due early.
  const ROWS = 200_000;
  const columns: ColumnInput[] = [
    { name: 'code', type: 'STRING' },
    { name: 'n', type: 'INTEGER' },
  ];
  let server: TestServer;
  let file: string;
  beforeAll(async () => {
    server = await startServer({ batchRows: 1_000_000, progressIntervalMs: 60_000 });
    file = join(await tempDir(), 'race.csv');
    await writeGeneratedCsv(file, 'code,n', ROWS, (i) => `c${i},${i}`);
  });
  afterAll(() => server.stop());

  const run = async (dataset: string, cancelAfterMs: number | null) => {
    const { id } = await submit(server.client, { dataset, columns }, file);
    await waitForJob(server.client, id, (job) => job.status !== 'PENDING');
    const startedAt = performance.now();
    if (cancelAfterMs === null) return { answer: null, job: await waitForJob(server.client, id), tookMs: performance.now() - startedAt };
    await new Promise((resolve) => setTimeout(resolve, cancelAfterMs));
    const answer = (await server.client.request(CancelJobDocument, { id })).cancelJob;
    return { answer, job: await waitForJob(server.client, id), tookMs: 0 };
  };

  it('a worker that already finished ends COMPLETED, and the cancel answers NOT_CANCELLABLE; a cancel in time ends CANCELLED with nothing written', async () => {
    // The fastest of a few runs: the first on a thread may be slower than the next on a warm one.
    const calibrations = [await run('race-calibration-1', null), await run('race-calibration-2', null), await run('race-calibration-3', null)];
    const tookMs = Math.min(...calibrations.map((calibration) => calibration.tookMs));
    const outcomes: string[] = [];
    for (let trial = 0; trial < 16; trial++) {
      // Cancels spread from a fifth of the job's length to past its end: some land after the last read.
      const { answer, job } = await run(`race-${trial}`, (tookMs * (0.2 + trial / 15)) | 0);
      const dataset = (await server.client.request(DatasetDocument, { name: `race-${trial}` })).dataset!;
      if (job.status === 'COMPLETED') {
        expect(answer!.userErrors.map((error) => error.code)).toEqual(['NOT_CANCELLABLE']);
        expect(answer!.job).toMatchObject({ id: job.id, status: 'COMPLETED' });
        expect(dataset.rowCount).toBe(ROWS);
      } else {
        expect(job.status).toBe('CANCELLED');
        expect(answer!.userErrors).toEqual([]);
        // Cancelled at a batch boundary, before its one commit: a job whose worker had finished its file is never cancelled.
        expect(job.progress.processedRows).toBe(0);
        expect(dataset.rowCount).toBe(0);
      }
      outcomes.push(job.status);
    }
    expect(outcomes).toContain('CANCELLED');
    expect(outcomes).toContain('COMPLETED');
  }, 240_000);
});
