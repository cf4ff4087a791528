import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnInput, JobFieldsFragment } from '../generated/graphql';
import { allIssues, writeGeneratedXlsx } from '../helpers/crash';
import { tempDir, writeGeneratedCsv } from '../helpers/files';
import { ingest, messagesOf, submit } from '../helpers/queries';
import { rejectedRecords } from '../helpers/rejected-rows';
import { removeDataDir, startServer, type TestServer, waitForJob } from '../helpers/server';
import { queryStore, storeBytes } from '../helpers/store';

// Issue details are capped per row and per job; the counts (issueCounts, rowsRejected) stay exact.

const requiredColumns = (width: number): ColumnInput[] => Array.from({ length: width }, (_, i) => ({ name: `c${i + 1}`, type: 'STRING', required: true }));
const headerOf = (width: number) => requiredColumns(width).map((column) => column.name).join(',');
/** A CSV row of `width` blank cells: every required column is an issue. */
const blankRow = (width: number) => ','.repeat(width - 1);

/** What the job's stored issues are in the engine's storage: how many, and whether their indexes run 0..n-1 without a gap. */
async function storedIssues(dataDir: string, jobId: string): Promise<{ count: number; contiguous: boolean }> {
  const [{ count, first, last }] = await queryStore<{ count: number; first: number | null; last: number | null }>(
    dataDir,
    'SELECT count(*) AS count, min(idx) AS first, max(idx) AS last FROM job_issues WHERE job_num = (SELECT num FROM jobs WHERE id = ?)',
    jobId,
  );
  return { count, contiguous: count === 0 || (first === 0 && last === count - 1) };
}

/** The job as the engine's storage holds it between two servers. */
async function jobRow(dataDir: string, jobId: string): Promise<{ status: string; processed_rows: number; checkpointed: number }> {
  const [row] = await queryStore<{ status: string; processed_rows: number; checkpointed: number }>(
    dataDir,
    'SELECT status, processed_rows, CASE WHEN checkpoint IS NULL THEN 0 ELSE 1 END AS checkpointed FROM jobs WHERE id = ?',
    jobId,
  );
  return row;
}

/** Every stored issue is a REQUIRED error of the first `perRow` columns of rows 1.., in order. */
function expectFirstRequiredIssues(issues: Awaited<ReturnType<typeof allIssues>>, perRow: number): void {
  issues.forEach((issue, i) => {
    expect(issue).toMatchObject({ severity: 'ERROR', code: 'REQUIRED', row: Math.floor(i / perRow) + 1, column: `c${(i % perRow) + 1}`, value: null });
  });
}

describe('a CSV whose every cell of many required columns is blank', () => {
  const WIDTH = 200;
  const ROWS = 3000;
  const CAPS = { perRow: 5, perJob: 1000, rejectedRows: 1000, rejectedBytes: 1024 ** 2 };
  let server: TestServer;
  let path: string;
  beforeAll(async () => {
    server = await startServer({ batchRows: 100, issueLimits: CAPS });
    path = join(await tempDir(), 'blank.csv');
    await writeGeneratedCsv(path, headerOf(WIDTH), ROWS, () => blankRow(WIDTH));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('stores at most the caps of issue details, counts every issue, says so in messages, and keeps the database small', async () => {
    const job = await ingest(server.client, { dataset: 'blank', columns: requiredColumns(WIDTH) }, path);
    expect(job).toMatchObject({ status: 'COMPLETED', error: null, progress: { processedRows: ROWS, rowsWritten: 0, rowsRejected: ROWS } });
    expect(job.issueCounts).toEqual({ errors: ROWS * WIDTH, warnings: 0 });
    expect(messagesOf(job).issues).toMatch(/at most 5 per row and 1000 per job/);

    expect(await storedIssues(server.dataDir, job.id)).toEqual({ count: CAPS.perJob, contiguous: true });
    const issues = await allIssues(server.client, job.id);
    expect(issues).toHaveLength(CAPS.perJob);
    expectFirstRequiredIssues(issues, CAPS.perRow);
    // 600,000 issues stored in full took about 80 MB.
    expect(await storeBytes(server.dataDir)).toBeLessThan(2 * 1024 ** 2);
  });
});

describe('an XLSX sheet of wide rows with one cell each', () => {
  const WIDTH = 1000;
  const ROWS = 1500;
  let server: TestServer;
  let path: string;
  beforeAll(async () => {
    server = await startServer(); // the default caps
    path = join(await tempDir(), 'sparse.xlsx');
    await writeGeneratedXlsx(path, 'Sheet1', headerOf(WIDTH).split(','), ROWS, (i) => [`row ${i}`]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('holds a bounded number of issues per burst (no OUT_OF_MEMORY) and stores the default caps', async () => {
    const job = await ingest(server.client, { dataset: 'sparse', columns: requiredColumns(WIDTH) }, path);
    expect(job).toMatchObject({ status: 'COMPLETED', error: null, progress: { processedRows: ROWS, rowsRejected: ROWS } });
    expect(job.issueCounts).toEqual({ errors: ROWS * (WIDTH - 1), warnings: 0 });
    const { perRow, perJob } = server.app.config.issueLimits;
    expect(await storedIssues(server.dataDir, job.id)).toEqual({ count: Math.min(perJob, ROWS * perRow), contiguous: true });
    expect(messagesOf(job).issues).toBeDefined();
  });
});

describe('a job stopped and resumed from its checkpoint', () => {
  const WIDTH = 10;
  const ROWS = 200_000;
  let path: string;
  beforeAll(async () => {
    path = join(await tempDir(), 'resumed.csv');
    await writeGeneratedCsv(path, headerOf(WIDTH), ROWS, () => blankRow(WIDTH));
  });

  // 100: the cap is reached before the stop; 100,000: after the resume, which numbers on.
  it.each([
    { perJob: 100, reachedBeforeStop: true },
    { perJob: 100_000, reachedBeforeStop: false },
  ])('keeps the issue numbering and the per-job cap of $perJob across the resume', async ({ perJob, reachedBeforeStop }) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sluice-issue-resume-'));
    const overrides = { batchRows: 1000, issueLimits: { perRow: 1, perJob, rejectedRows: perJob, rejectedBytes: 1024 ** 3 } };
    try {
      let server = await startServer(overrides, dataDir);
      let job: JobFieldsFragment;
      try {
        job = await submit(server.client, { dataset: 'resumed', columns: requiredColumns(WIDTH) }, path);
        await waitForJob(server.client, job.id, (seen) => seen.status === 'RUNNING' && seen.progress.processedRows > 0);
      } finally {
        await server.stop();
      }
      // The stop came mid-job: the rest is a resumed attempt.
      expect(await jobRow(dataDir, job.id)).toMatchObject({ status: 'PENDING', checkpointed: 1 });
      expect((await jobRow(dataDir, job.id)).processed_rows).toBeLessThan(ROWS);
      const storedAtStop = (await storedIssues(dataDir, job.id)).count;
      expect(storedAtStop).toBe(Math.min(perJob, (await jobRow(dataDir, job.id)).processed_rows));
      expect(storedAtStop === perJob).toBe(reachedBeforeStop);
      server = await startServer(overrides, dataDir);
      try {
        const ended = await waitForJob(server.client, job.id);
        expect(ended).toMatchObject({ status: 'COMPLETED', progress: { processedRows: ROWS, rowsRejected: ROWS } });
        expect(ended.issueCounts).toEqual({ errors: ROWS * WIDTH, warnings: 0 });
        expect(await storedIssues(dataDir, job.id)).toEqual({ count: perJob, contiguous: true });
        expectFirstRequiredIssues(await allIssues(server.client, job.id), 1);
        // The rejected-rows file keeps its bound across the resume too, each row once, in file order.
        const [header, ...rejected] = await rejectedRecords(server.client, job.id);
        expect(header).toEqual(['_row', '_errors', ...headerOf(WIDTH).split(',')]);
        const kept = Math.min(perJob, ROWS);
        expect(rejected.slice(0, kept).map((record) => Number(record[0]))).toEqual(Array.from({ length: kept }, (_, i) => i + 1));
        expect(rejected.slice(kept).map((record) => record[1].replace(/ more .*/, ''))).toEqual(ROWS > kept ? [`truncated: ${ROWS - kept}`] : []);
      } finally {
        await server.stop();
      }
    } finally {
      await removeDataDir(dataDir);
    }
  });
});
