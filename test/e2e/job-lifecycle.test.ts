import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/auth/first-key';
import { CancelJobDocument, type ColumnInput, DatasetDocument, type JobFieldsFragment, JobDocument, JobIssuesDocument, JobsDocument } from '../generated/graphql';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, peopleFileForSuite, personLine, tempDir, writeText } from '../helpers/files';
import { type IngestFileInput, ingest, jobCount, submit } from '../helpers/queries';
import { heldUploads, NO_UPLOADS, removeDataDir, startServer, TERMINAL, type TestServer, until, uploadsGone, waitForJob } from '../helpers/server';
import { queryStoreValue } from '../helpers/store';
import { HANGING_CELL, SLOW_PATTERN, slowCell } from '../helpers/slow-pattern';
import { compileUserPattern } from '../../src/ingest/pattern';

// The life of a job at its edges: jobs that end having written nothing, hard cancels, columns a
// failed first job had inferred, inference from a header, hung workers, the heartbeat, and a stop
// with a cancel pending.

/** Rows of the large people file: enough that a job is observed RUNNING between two batches of 100 000 rows. */
const BIG_ROWS = 300_000;


const csv = (...lines: string[]) => `${lines.join('\n')}\n`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ms = (iso: string) => Date.parse(iso);

const bigFile = peopleFileForSuite(BIG_ROWS);

/** Uploads `content` as a CSV into `dataset` and waits until its job is terminal. */
async function ingestCsv(target: TestServer, dataset: string, content: string, input: Omit<IngestFileInput, 'dataset'> = {}): Promise<JobFieldsFragment> {
  return ingest(target.client, { dataset, ...input }, await writeText(`${dataset}.csv`, content), `${dataset}.csv`);
}

/** The dataset as a client sees it: count, columns and every visible row's values (one page). */
async function datasetOf(target: TestServer, name: string) {
  const { dataset } = await target.client.request(DatasetDocument, { name, first: 1000 });
  expect(dataset).not.toBeNull();
  expect(dataset!.rows.pageInfo.hasNextPage).toBe(false);
  expect(dataset!.rows.totalCount).toBe(dataset!.rowCount);
  return { rowCount: dataset!.rowCount, columns: dataset!.columns, values: dataset!.rows.edges.map((edge) => edge.node.values) };
}

/** Every issue of a job (first 1000), without messages. */
async function issuesOf(target: TestServer, id: string) {
  const { job } = await target.client.request(JobIssuesDocument, { id, first: 1000 });
  return job!.issues.edges.map(({ node: { message: _message, ...rest } }) => rest);
}

/** Holds the purger back (every step finds nothing to purge) until the returned function is called. */
function holdPurger(target: TestServer): () => void {
  const spy = vi.spyOn(target.app.services.datasets, 'purgeStep').mockResolvedValue(0);
  return () => spy.mockRestore();
}

/** Hidden ranges of a dataset still open (a job writing into them), read from the engine's storage (read-only). */
async function openRanges(target: TestServer, dataset: string): Promise<number> {
  const id = (await target.app.services.datasets.get(DEFAULT_WORKSPACE, dataset))?.id;
  if (id === undefined) return 0;
  return queryStoreValue<number>(target.dataDir, 'SELECT count(*) FROM dataset_hidden_ranges WHERE dataset_id = ? AND to_row IS NULL', id);
}

async function getJob(target: TestServer, id: string): Promise<JobFieldsFragment> {
  const { job } = await target.client.request(JobDocument, { id });
  expect(job).not.toBeNull();
  return job!;
}

const twoColumns: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true },
  { name: 'name', type: 'STRING' },
];

describe('on the default configuration', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('a job that wrote no rows', () => {
    it.each([
      ['as the first job of a dataset', false],
      ['after a completed job', true],
    ])('FAILED %s: the next job on the dataset completes while the purger is held back', async (_label, completedFirst) => {
      const dataset = `zero-failed-${completedFirst ? 'after' : 'first'}`;
      const before = completedFirst ? [{ id: 1, name: 'a' }] : [];
      if (completedFirst) expect((await ingestCsv(server, dataset, csv('id,name', '1,a'), { columns: twoColumns })).status).toBe('COMPLETED');

      const release = holdPurger(server);
      try {
        // The first data row is rejected and maxErrors is 0: the job fails before it writes any row.
        const failed = await ingestCsv(server, dataset, csv('id,name', 'x,bad', '9,never'), { columns: twoColumns, maxErrors: 0 });
        expect(failed.status).toBe('FAILED');
        expect(failed.error?.code).toBe('TOO_MANY_ERRORS');
        expect(failed.progress).toMatchObject({ processedRows: 1, rowsWritten: 0, rowsRejected: 1 });
        expect(await datasetOf(server, dataset)).toEqual({ rowCount: before.length, columns: expect.any(Array), values: before });

        const next = await ingestCsv(server, dataset, csv('id,name', '2,b', '3,c'), { columns: twoColumns });
        expect(next.error).toBeNull();
        expect(next.status).toBe('COMPLETED');
        expect(next.result).toMatchObject({ rowsWritten: 2, rowsRejected: 0 });
        expect((await datasetOf(server, dataset)).values).toEqual([...before, { id: 2, name: 'b' }, { id: 3, name: 'c' }]);
      } finally {
        release();
      }
    });
  });

  describe('a FAILED or CANCELLED first job whose columns were inferred', () => {
    const nextHeader = csv('when,flag,amount', '2024-01-02,true,1.5', '2024-01-03,false,2');
    const nextColumns = [
      { name: 'when', type: 'DATE', required: true },
      { name: 'flag', type: 'BOOLEAN', required: true },
      { name: 'amount', type: 'DECIMAL', required: true },
    ];
    const nextValues = [
      { when: '2024-01-02', flag: true, amount: 1.5 },
      { when: '2024-01-03', flag: false, amount: 2 },
    ];

    it('FAILED: leaves the dataset without columns; a next job with another header infers its own; given or settled columns stay', async () => {
      // Row 1 is written with the batch that explains the failure; row 2 is one field too wide.
      const failed = await ingestCsv(server, 'forget-failed', csv('a,b', '1,x', '2,y,z'), { maxErrors: 0 });
      expect(failed.status).toBe('FAILED');
      expect(failed.error?.code).toBe('TOO_MANY_ERRORS');
      expect(failed.progress.rowsWritten).toBe(1);
      expect(await datasetOf(server, 'forget-failed')).toEqual({ rowCount: 0, columns: [], values: [] });

      const next = await ingestCsv(server, 'forget-failed', nextHeader);
      expect(next.error).toBeNull();
      expect(next.status).toBe('COMPLETED');
      expect(await datasetOf(server, 'forget-failed')).toEqual({ rowCount: 2, columns: nextColumns, values: nextValues });

      // Once a job has COMPLETED, the columns are the dataset's: a failing job does not reset them.
      const later = await ingestCsv(server, 'forget-failed', csv('when,flag,amount', '2024-01-04,true,3', 'oops,false,1'), { maxErrors: 0 });
      expect(later.status).toBe('FAILED');
      expect(later.error?.code).toBe('TOO_MANY_ERRORS');
      expect(await datasetOf(server, 'forget-failed')).toEqual({ rowCount: 2, columns: nextColumns, values: nextValues });

      // Columns the caller gave are the dataset's from its creation: a failed first job does not forget them.
      const explicit = await ingestCsv(server, 'keep-explicit', csv('id,name', 'x,a'), { columns: twoColumns, maxErrors: 0 });
      expect(explicit.status).toBe('FAILED');
      const shape = [
        { name: 'id', type: 'INTEGER', required: true },
        { name: 'name', type: 'STRING', required: false },
      ];
      expect(await datasetOf(server, 'keep-explicit')).toEqual({ rowCount: 0, columns: shape, values: [] });
      const taking = await ingestCsv(server, 'keep-explicit', csv('id,name', '1,a')); // no columns: the dataset's
      expect(taking.status).toBe('COMPLETED');
      expect(await datasetOf(server, 'keep-explicit')).toEqual({ rowCount: 1, columns: shape, values: [{ id: 1, name: 'a' }] });
    });

    it('CANCELLED while writing: leaves the dataset without columns; a next job with another header infers its own', async () => {
      const job = await submit(server.client, { dataset: 'forget-cancelled' }, bigFile());
      // Rows written means the job's inference has set the dataset's columns.
      const running = await waitForJob(server.client, job.id, (j) => TERMINAL.has(j.status) || j.progress.rowsWritten > 0);
      expect(running.status).toBe('RUNNING');
      expect(running.progress.rowsWritten).toBeLessThan(BIG_ROWS);
      const { cancelJob } = await server.client.request(CancelJobDocument, { id: job.id });
      expect(cancelJob.userErrors).toEqual([]);
      expect(cancelJob.job!.status).toBe('CANCELLED');
      expect(await datasetOf(server, 'forget-cancelled')).toEqual({ rowCount: 0, columns: [], values: [] });

      const next = await ingestCsv(server, 'forget-cancelled', nextHeader);
      expect(next.error).toBeNull();
      expect(next.status).toBe('COMPLETED');
      expect(await datasetOf(server, 'forget-cancelled')).toEqual({ rowCount: 2, columns: nextColumns, values: nextValues });
    });
  });

  describe('inference with a header', () => {
    it('XLSX: a header of 3 cells over rows of 4 gives 3 columns; the unnamed 4th cell is ignored with one EXTRA_CELLS warning', async () => {
      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet('Data');
      sheet.addRow(['name', 'qty', 'note']);
      sheet.addRow(['a', 1, 'x', 'extra 1']);
      sheet.addRow(['b', 2, 'y', 'extra 2']);
      const path = join(await tempDir(), 'wide.xlsx');
      await workbook.xlsx.writeFile(path);

      const job = await ingest(server.client, { dataset: 'xlsx-wide-rows' }, path, 'wide.xlsx');
      expect(job.error).toBeNull();
      expect(job.status).toBe('COMPLETED');
      expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 0 });
      // A cell under no header cell is ignored, and said once per job.
      expect(job.issueCounts).toEqual({ errors: 0, warnings: 1 });
      expect(await issuesOf(server, job.id)).toEqual([{ severity: 'WARNING', code: 'EXTRA_CELLS', row: 1, column: null, value: null }]);
      expect(await datasetOf(server, 'xlsx-wide-rows')).toEqual({
        rowCount: 2,
        columns: [
          { name: 'name', type: 'STRING', required: true },
          { name: 'qty', type: 'INTEGER', required: true },
          { name: 'note', type: 'STRING', required: true },
        ],
        values: [
          { name: 'a', qty: 1, note: 'x' },
          { name: 'b', qty: 2, note: 'y' },
        ],
      });
    });

    it('CSV: one malformed too-wide row in the sample adds no column; it is a MALFORMED_ROW', async () => {
      const job = await ingestCsv(server, 'csv-wide-row', csv('a,b,c', '1,x,2024-01-01', '2,y,2024-01-02,EXTRA', '3,z,2024-01-03'));
      expect(job.status).toBe('COMPLETED');
      expect(job.result).toMatchObject({ rowsWritten: 2, rowsRejected: 1 });
      expect(job.issueCounts).toEqual({ errors: 1, warnings: 0 });
      expect(await issuesOf(server, job.id)).toEqual([{ severity: 'ERROR', code: 'MALFORMED_ROW', row: 2, column: null, value: null }]);
      expect(await datasetOf(server, 'csv-wide-row')).toEqual({
        rowCount: 2,
        columns: [
          { name: 'a', type: 'INTEGER', required: true },
          { name: 'b', type: 'STRING', required: true },
          { name: 'c', type: 'DATE', required: true },
        ],
        values: [
          { a: 1, b: 'x', c: '2024-01-01' },
          { a: 3, b: 'z', c: '2024-01-03' },
        ],
      });
    });
  });

  describe('the heartbeat', () => {
    it('advances updatedAt at least every heartbeat interval while RUNNING, even when no batch is committed for seconds', async () => {
      const interval = server.app.config.heartbeatIntervalMs;
      // Rows that are slow to validate: each costs the worker ~20 ms of matching, and the whole
      // file is one burst, so the worker commits nothing for seconds and only the heartbeat moves updatedAt.
      const slow = compileUserPattern(SLOW_PATTERN);
      let length = 1000;
      let cost = 0;
      for (; length < 64_000; length *= 2) {
        // The fastest of three runs: underestimating the cost only makes the job longer.
        cost = Math.min(
          ...[1, 2, 3].map((seed) => {
            const cell = slowCell(length, seed);
            const started = performance.now();
            slow.test(cell);
            return performance.now() - started;
          }),
        );
        if (cost >= 20) break;
      }
      const rows = Math.min(2000, Math.ceil(6000 / cost)); // about 6 s of work
      const content = csv('code', ...Array.from({ length: rows }, (_, row) => slowCell(length, 100 + row)));
      const job = await submit(server.client, { dataset: 'heartbeat', columns: [{ name: 'code', type: 'STRING', pattern: SLOW_PATTERN }] }, await writeText('slow.csv', content));

      // Every distinct updatedAt seen while RUNNING, and how old updatedAt was at each look.
      const seen: number[] = [];
      let oldest = 0;
      let last: JobFieldsFragment;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const asked = Date.now();
        if (asked > deadline) throw new Error(`job ${job.id} did not end within 60 s`);
        last = await getJob(server, job.id);
        if (last.status !== 'RUNNING') {
          if (TERMINAL.has(last.status)) break;
        } else {
          const updatedAt = ms(last.updatedAt);
          if (seen.at(-1) !== updatedAt) seen.push(updatedAt);
          oldest = Math.max(oldest, asked - updatedAt);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(last.status).toBe('COMPLETED');
      expect(last.result).toMatchObject({ rowsWritten: 0, rowsRejected: rows });
      const runningFor = ms(last.completedAt!) - ms(last.startedAt!);
      expect(runningFor).toBeGreaterThan(3 * interval); // several heartbeats were due
      const gaps = seen.slice(1).map((t, i) => t - seen[i]);
      expect(gaps.length).toBeGreaterThanOrEqual(3);
      // The heartbeat ticks at half the interval, so gaps are at most one interval (plus timers firing
      // late). Ticking at the full interval instead skips every other tick that finds updatedAt a hair
      // younger than the interval: gaps of just under 2 intervals (1999 ms), which a 2000 ms bound would miss.
      // Half an interval of slack: on a loaded 2-core machine a timer fired 257 ms late (CI, PostgreSQL).
      const slack = interval / 2;
      expect(Math.max(...gaps)).toBeLessThanOrEqual(interval + slack);
      expect(oldest).toBeLessThanOrEqual(interval + slack);
    });
  });
});

describe('hard cancel', () => {
  it('terminates a worker that cannot reach a batch boundary in time: CANCELLED, no row visible, upload deleted, the dataset usable', async () => {
    const server = await startServer({ cancelTimeoutMs: 10, batchRows: 100_000, progressIntervalMs: 60_000 });
    try {
      const job = await submit(server.client, { dataset: 'hard', columns: PERSON_COLUMNS }, bigFile());
      // One batch is written (hidden): closed by its size in bytes (about 8 MiB) before its 100 000 rows;
      // the next boundary is as far away again.
      const running = await waitForJob(server.client, job.id, (j) => TERMINAL.has(j.status) || j.progress.rowsWritten > 0);
      expect(running.status).toBe('RUNNING');
      expect(running.progress.rowsWritten).toBeGreaterThan(10_000);
      expect(running.progress.rowsWritten).toBeLessThan(200_000);
      expect((await heldUploads(server)).stored).toContain(job.id);

      const { cancelJob } = await server.client.request(CancelJobDocument, { id: job.id });
      expect(cancelJob.userErrors).toEqual([]);
      expect(cancelJob.job!.status).toBe('CANCELLED');
      expect(cancelJob.job!.error?.code).toBe('CANCELLED');
      expect(cancelJob.job!.progress.rowsWritten).toBeLessThan(BIG_ROWS);
      expect(cancelJob.job!.dataset.rowCount).toBe(0);
      expect(await datasetOf(server, 'hard')).toMatchObject({ rowCount: 0, values: [] });
      await uploadsGone(server);
      expect(await getJob(server, job.id)).toMatchObject({ status: 'CANCELLED', attempts: 1 });

      // The cancelled job's ids are hidden, not taken: a following job may use them.
      const next = await ingestCsv(server, 'hard', csv(PERSON_HEADER, ...range(1, 5).map(personLine)));
      expect(next.error).toBeNull();
      expect(next.status).toBe('COMPLETED');
      expect(next.result).toMatchObject({ rowsWritten: 5, rowsRejected: 0 });
      expect(await datasetOf(server, 'hard')).toMatchObject({ rowCount: 5, values: range(1, 5).map(expectedPerson) });
    } finally {
      await server.stop();
    }
  });
});

describe('a hung worker', () => {
  let server: TestServer;
  const hangingColumns: ColumnInput[] = [
    { name: 'code', type: 'STRING', pattern: SLOW_PATTERN },
    { name: 'n', type: 'INTEGER' },
  ];
  beforeAll(async () => {
    // One job at a time, so that a job after the hung one needs the slot the hung one holds.
    server = await startServer({ stallThresholdMs: 1500, heartbeatIntervalMs: 200, cancelTimeoutMs: 300, maxConcurrentJobs: 1 });
  });
  afterEach(async () => {
    // A test that failed midway must not leave a hung job holding the only slot for the next one.
    const { jobs } = await server.client.request(JobsDocument, { first: 100, status: ['PENDING', 'RUNNING'] });
    for (const { node } of jobs.edges) await server.client.request(CancelJobDocument, { id: node.id });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('shows as stalled, with updatedAt frozen, and can still be cancelled; the next job then runs', async () => {
    const started = Date.now();
    const hung = await submit(server.client, { dataset: 'hung', columns: hangingColumns }, await writeText('hung.csv', csv('code,n', `${HANGING_CELL},1`, 'aaa,2')));
    const queued = await submit(server.client, { dataset: 'after-hung', columns: twoColumns }, await writeText('after.csv', csv('id,name', '1,a', '2,b')));

    const stalled = await waitForJob(server.client, hung.id, (j) => TERMINAL.has(j.status) || j.stalled, 10_000);
    expect(stalled.status).toBe('RUNNING');
    expect(stalled.stalled).toBe(true);
    // Frozen: over several heartbeat intervals, nothing about the job changes.
    const frozenFrom = Date.now();
    for (;;) {
      const job = await getJob(server, hung.id);
      expect(job).toMatchObject({ status: 'RUNNING', stalled: true, updatedAt: stalled.updatedAt, sequence: stalled.sequence });
      if (Date.now() - frozenFrom >= 4 * 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await getJob(server, queued.id)).status).toBe('PENDING');

    const asked = Date.now();
    const { cancelJob } = await server.client.request(CancelJobDocument, { id: hung.id });
    expect(Date.now() - asked).toBeLessThan(2000);
    expect(cancelJob.userErrors).toEqual([]);
    expect(cancelJob.job).toMatchObject({ status: 'CANCELLED', stalled: false, error: { code: 'CANCELLED' } });

    const next = await waitForJob(server.client, queued.id, undefined, 10_000);
    expect(next.status).toBe('COMPLETED');
    expect((await datasetOf(server, 'after-hung')).values).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it('CANCELLED before writing a row: the next job on the dataset completes while the purger is held back', async () => {
    const dataset = 'zero-cancelled';
    const release = holdPurger(server);
    try {
      const hung = await submit(server.client, { dataset, columns: hangingColumns }, await writeText('hung.csv', csv('code,n', `${HANGING_CELL},1`, 'aaa,2')));
      // The job has opened its (hidden) range of rows and hangs on its first row before writing any.
      await until(async () => openRanges(server, dataset), (open) => open === 1, `job ${hung.id} to open its range`, 10_000);
      const { cancelJob } = await server.client.request(CancelJobDocument, { id: hung.id });
      expect(cancelJob.job).toMatchObject({ status: 'CANCELLED', progress: { rowsWritten: 0 } });

      // Its own columns: the dataset keeps the slow pattern it was declared with, which these values do not match.
      const next = await ingestCsv(server, dataset, csv('code,n', 'aaa,1', 'a,2'), { columns: hangingColumns.map(({ pattern, ...column }) => column) });
      expect(next.error).toBeNull();
      expect(next.status).toBe('COMPLETED');
      expect(await datasetOf(server, dataset)).toMatchObject({
        rowCount: 2,
        values: [
          { code: 'aaa', n: 1 },
          { code: 'a', n: 2 },
        ],
      });
    } finally {
      release();
    }
  }, 30_000);
});

describe('stopping the server with a cancel pending', () => {
  it('ends the job CANCELLED: after a restart on the same data it is not queued and run again', async () => {
    const dataDir = await tempDir();
    try {
      const first = await startServer({ cancelTimeoutMs: 60_000, batchRows: 100_000, progressIntervalMs: 60_000 }, dataDir);
      let id: string;
      try {
        // The worker hangs on its first row, so it never reaches a batch boundary where it could stop by itself.
        const job = await submit(
          first.client,
          { dataset: 'stop-cancel', columns: [{ name: 'code', type: 'STRING', pattern: SLOW_PATTERN }] },
          await writeText('hung.csv', csv('code', HANGING_CELL, 'aaa')),
        );
        id = job.id;
        await waitForJob(first.client, id, (j) => j.status !== 'PENDING');
        const cancel = vi.spyOn(first.app.services.canceller, 'cancel');
        const answer = first.client.request(CancelJobDocument, { id }).catch((error: unknown) => error); // not awaited
        try {
          await until(async () => cancel.mock.calls.length, (calls) => calls > 0, 'cancelJob to reach the canceller', 10_000);
          expect((await getJob(first, id)).status).toBe('RUNNING'); // the cancel is pending
          await first.app.stop();
        } finally {
          cancel.mockRestore();
        }
        await answer; // whatever it was (the server went away meanwhile)
      } catch (error) {
        await first.app.stop().catch(() => undefined);
        throw error;
      }

      const second = await startServer({}, dataDir);
      try {
        const job = await getJob(second, id);
        expect(job).toMatchObject({ status: 'CANCELLED', attempts: 1, error: { code: 'CANCELLED' } });
        expect(await jobCount(second.client, { status: ['PENDING', 'RUNNING'] })).toBe(0);
        expect(await heldUploads(second)).toEqual(NO_UPLOADS);
        expect(await datasetOf(second, 'stop-cancel')).toMatchObject({ rowCount: 0, values: [] });
      } finally {
        await second.stop();
      }
    } finally {
      await removeDataDir(dataDir);
    }
  }, 30_000);

  it('ends the job CANCELLED when the cancel came while its upload was still being fetched, so only the stop reached its worker', async () => {
    const dataDir = await tempDir();
    try {
      const first = await startServer({}, dataDir);
      let id: string;
      try {
        // The claimed job waits for its upload: no worker runs it yet, so the cancel is asked through the store.
        const { blobs } = first.app.engine;
        const fetch = blobs.localFile.bind(blobs);
        let letFetchGo!: () => void;
        const fetchHeld = new Promise<void>((resolve) => (letFetchGo = resolve));
        const heldFetch = vi.spyOn(blobs, 'localFile').mockImplementation(async (key) => {
          await fetchHeld;
          return fetch(key);
        });
        try {
          id = (await submit(first.client, { dataset: 'fetch-cancel' }, await writeText('fetch-cancel.csv', csv('id', '1', '2')))).id;
          await waitForJob(first.client, id, (j) => j.status !== 'PENDING');
          const answer = first.client.request(CancelJobDocument, { id }).catch((error: unknown) => error); // not awaited
          await until(() => first.app.services.registry.get(id), (job) => job?.cancelRequested === true, 'the cancel to be noted in the store', 10_000);
          letFetchGo();
          // The stop asks the worker, started now, to pause: the cancel it never heard of must still win.
          await first.app.stop();
          await answer;
        } finally {
          heldFetch.mockRestore();
        }
      } catch (error) {
        await first.app.stop().catch(() => undefined);
        throw error;
      }

      const second = await startServer({}, dataDir);
      try {
        expect(await getJob(second, id)).toMatchObject({ status: 'CANCELLED', attempts: 1, error: { code: 'CANCELLED' } });
        expect(await jobCount(second.client, { status: ['PENDING', 'RUNNING'] })).toBe(0);
        expect(await datasetOf(second, 'fetch-cancel')).toMatchObject({ rowCount: 0, values: [] });
      } finally {
        await second.stop();
      }
    } finally {
      await removeDataDir(dataDir);
    }
  }, 30_000);
});
