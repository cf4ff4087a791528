import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetDocument, type JobFieldsFragment, JobDocument } from '../generated/graphql';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, peopleFileForSuite, personLine, writeText } from '../helpers/files';
import { allRows, ingest, submit } from '../helpers/queries';
import { ON_POSTGRES } from '../helpers/engine';
import { startServer, TERMINAL, type TestServer, until, uploadsGone, waitForJob } from '../helpers/server';
import { storedRows } from '../helpers/store';

// Storage faults: the database locked by another connection past the busy timeout while jobs write,
// spooled uploads that no longer match what was accepted (altered, truncated, deleted), and uploads
// kept after their job (SLUICE_KEEP_UPLOADS) until the job expires.

/** Rows of the large people file: a job writing it in small batches is still mid-file when the lock is taken. */
const BIG_ROWS = 200_000;
const BUSY_TIMEOUT_MS = 200;
/** Far longer than the busy timeout plus a batch: every job writing during the window attempts a commit and gives up. */
const LOCK_HOLD_MS = 1500;

const bigFile = peopleFileForSuite(BIG_ROWS);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const peopleCsv = (ids: number[]) => `${[PERSON_HEADER, ...ids.map(personLine)].join('\n')}\n`;

async function datasetCount(target: TestServer, name: string): Promise<{ rowCount: number; totalCount: number }> {
  const { dataset } = await target.client.request(DatasetDocument, { name, first: 0 });
  expect(dataset).not.toBeNull();
  return { rowCount: dataset!.rowCount, totalCount: dataset!.rows.totalCount };
}

/** A stored upload's bytes, read through the server's BlobStore. */
async function readUpload(target: TestServer, key: string): Promise<Buffer> {
  const file = await target.app.engine.blobs.localFile(key);
  try {
    return await readFile(file.path);
  } finally {
    await file.release();
  }
}

/** Stores other bytes under a job's upload key through the server's BlobStore, as a fault of the storage would leave them. */
async function spoilUpload(target: TestServer, key: string, spoil: (bytes: Buffer) => Buffer): Promise<void> {
  const { blobs } = target.app.engine;
  await blobs.put(await blobs.stage(Readable.from([spoil(await readUpload(target, key))]), 'spoiled.csv'), key);
}

/** Waits until the job has committed rows while RUNNING; fails if it ended first (the file was too small to catch it mid-job). */
async function waitWriting(target: TestServer, id: string): Promise<void> {
  const job = await waitForJob(target.client, id, (j) => TERMINAL.has(j.status) || j.progress.rowsWritten > 0);
  expect(job.status).toBe('RUNNING');
}

function expectStorageError(job: JobFieldsFragment, message: RegExp): void {
  expect(job.status).toBe('FAILED');
  expect(job.error?.code).toBe('STORAGE_ERROR');
  expect(job.error?.message).toMatch(message);
}

// SQLite's own fault: one writer at a time, a busy timeout, and a database-wide lock another connection can take.
describe.skipIf(ON_POSTGRES)('the database locked by another connection past the busy timeout', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Small batches and a short progress interval: each worker commits every few milliseconds, so a
    // commit is certainly attempted during the lock window. A short heartbeat makes the main thread
    // write (lease renewals, the instance lock) during the window too.
    server = await startServer({
      sqliteBusyTimeoutMs: BUSY_TIMEOUT_MS,
      maxConcurrentJobs: 2,
      batchRows: 500,
      progressIntervalMs: 10,
      heartbeatIntervalMs: 100,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails every job writing meanwhile with STORAGE_ERROR, leaves the datasets unchanged, keeps serving, and a resubmission completes', async () => {
    const earlierIds = range(1_000_001, 1_000_010);
    const earlier = await ingest(server.client, { dataset: 'locked', columns: PERSON_COLUMNS }, await writeText('earlier.csv', peopleCsv(earlierIds)));
    expect(earlier.status).toBe('COMPLETED');

    // Both uploads at once, so that both jobs run side by side on their own datasets.
    const [target, other] = await Promise.all([
      submit(server.client, { dataset: 'locked' }, bigFile()),
      submit(server.client, { dataset: 'locked-other', columns: PERSON_COLUMNS }, bigFile()),
    ]);
    await Promise.all([waitWriting(server, target.id), waitWriting(server, other.id)]);

    // The outsider shares the server's thread: the main thread's writes during the window always wait
    // the whole busy timeout and fail, and the window lasts at least LOCK_HOLD_MS.
    const outsider = new Database(join(server.dataDir, 'sluice.db'), { timeout: 10_000 });
    try {
      outsider.prepare('BEGIN IMMEDIATE').run();
      // With the lock held nothing can end the jobs; both still have their 'finalizing' commit ahead,
      // so each worker attempts a commit while the lock is held.
      const states = outsider.prepare('SELECT status, stage FROM jobs WHERE id IN (?, ?)').all(target.id, other.id) as Array<{ status: string; stage: string }>;
      expect(states).toHaveLength(2);
      for (const { status, stage } of states) {
        expect(status).toBe('RUNNING');
        expect(stage).not.toBe('finalizing');
      }
      await sleep(LOCK_HOLD_MS);
      // Reads go on while writes are refused (WAL): the API answers, the job cannot be concluded yet.
      const { job } = await server.client.request(JobDocument, { id: target.id });
      expect(job?.status).toBe('RUNNING');
    } finally {
      outsider.prepare('ROLLBACK').run();
      outsider.close();
    }

    // The main thread commits the jobs' end once the database is writable again.
    // Both jobs wrote during the window: a database-wide lock fails every writer, whatever its dataset.
    for (const job of [target, other]) {
      const ended = await waitForJob(server.client, job.id);
      expectStorageError(ended, /the database refused a write \(SQLITE_BUSY/);
      expect(ended.error!.message).not.toContain(server.dataDir);
    }
    expect(await datasetCount(server, 'locked')).toEqual({ rowCount: earlierIds.length, totalCount: earlierIds.length });
    expect((await allRows(server.client, 'locked')).map((row) => row.values)).toEqual(earlierIds.map(expectedPerson));
    expect(await datasetCount(server, 'locked-other')).toEqual({ rowCount: 0, totalCount: 0 });
    // The rows the failed jobs had written are purged.
    const purged = [{ rows: earlierIds.length, hiddenRanges: 0 }, { rows: 0, hiddenRanges: 0 }];
    await until(async () => [await storedRows(server.dataDir, 'locked'), await storedRows(server.dataDir, 'locked-other')], (now) => isDeepStrictEqual(now, purged), 'the purge', 10_000);

    // The same file again, as the error message suggests, now goes through.
    const again = await waitForJob(server.client, (await submit(server.client, { dataset: 'locked' }, bigFile())).id);
    expect(again.status).toBe('COMPLETED');
    expect(again.result).toMatchObject({ rowsWritten: BIG_ROWS, rowsRejected: 0 });
    const total = earlierIds.length + BIG_ROWS;
    expect(await datasetCount(server, 'locked')).toEqual({ rowCount: total, totalCount: total });
    await uploadsGone(server);
  });
});

describe('a stored upload that no longer matches the upload', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ maxConcurrentJobs: 1 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails the job with STORAGE_ERROR before anything is written when the stored upload is altered, truncated or deleted', async () => {
    const blocker = await submit(server.client, { dataset: 'blocker', columns: PERSON_COLUMNS }, bigFile());
    await waitWriting(server, blocker.id);
    // Queued behind the blocker (one job at a time), so their spooled files can be spoiled before they start.
    const content = peopleCsv(range(1, 100));
    const queued = async (dataset: string) => submit(server.client, { dataset, columns: PERSON_COLUMNS }, await writeText(`${dataset}.csv`, content));
    const altered = await queued('altered');
    const truncated = await queued('truncated');
    const deleted = await queued('deleted');

    // Each spoiled file is still a valid CSV: only the check against the upload's size and sha256 can tell.
    await spoilUpload(server, altered.id, (bytes) => {
      bytes[bytes.lastIndexOf('Person')] = 'Q'.charCodeAt(0);
      return bytes;
    });
    await spoilUpload(server, truncated.id, (bytes) => bytes.subarray(0, content.indexOf('\n', content.length / 2) + 1));
    await server.app.engine.blobs.delete(deleted.id);
    // The spoiling happened while the blocker held the only slot.
    const { job: stillBlocking } = await server.client.request(JobDocument, { id: blocker.id });
    expect(stillBlocking?.status).toBe('RUNNING');

    for (const [job, message] of [
      [altered, /corrupt or truncated/],
      [truncated, /corrupt or truncated/],
      [deleted, /reading the spooled upload failed \(ENOENT\)/],
    ] as const) {
      const ended = await waitForJob(server.client, job.id);
      expectStorageError(ended, message);
      expect(ended.error!.message).not.toContain(server.dataDir);
      expect(ended.progress).toMatchObject({ processedRows: 0, rowsWritten: 0, rowsRejected: 0 });
      expect(ended.issueCounts).toEqual({ errors: 0, warnings: 0 });
      expect(await datasetCount(server, ended.dataset.name)).toEqual({ rowCount: 0, totalCount: 0 });
    }
    // Not even a range of rows was opened for them.
    for (const dataset of ['altered', 'truncated', 'deleted']) expect(await storedRows(server.dataDir, dataset)).toEqual({ rows: 0, hiddenRanges: 0 });

    const done = await waitForJob(server.client, blocker.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toMatchObject({ rowsWritten: BIG_ROWS, rowsRejected: 0 });
    expect(await datasetCount(server, 'blocker')).toEqual({ rowCount: BIG_ROWS, totalCount: BIG_ROWS });
    // Without SLUICE_KEEP_UPLOADS every spooled file goes once its job ended, failed or not.
    await uploadsGone(server);
  });
});

describe('SLUICE_KEEP_UPLOADS', () => {
  const RETENTION_MS = 2000;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ keepUploads: true, jobRetentionMs: RETENTION_MS, cleanupIntervalMs: 100 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps the uploads of ended jobs until the jobs expire, then deletes them with the jobs; the rows stay', async () => {
    const content = peopleCsv(range(1, 5));
    // A failed job's upload is kept as well: maxErrors 0 and a row without a valid id.
    const bad = `${content}x,a,a@example.com,1,2024-01-01,true\n`;
    const [completed, failed] = await Promise.all([
      ingest(server.client, { dataset: 'kept', columns: PERSON_COLUMNS }, await writeText('kept.csv', content)),
      ingest(server.client, { dataset: 'kept-failed', columns: PERSON_COLUMNS, maxErrors: 0 }, await writeText('bad.csv', bad)),
    ]);
    expect(completed.status).toBe('COMPLETED');
    expect(failed.error?.code).toBe('TOO_MANY_ERRORS');

    // Both ended and neither expired yet: their uploads are still there, byte for byte.
    expect(Date.now()).toBeLessThan(Math.min(Date.parse(completed.expiresAt!), Date.parse(failed.expiresAt!)));
    expect((await readUpload(server, completed.id)).toString()).toBe(content);
    expect((await readUpload(server, failed.id)).toString()).toBe(bad);

    for (const job of [completed, failed]) {
      await until(async () => (await server.client.request(JobDocument, { id: job.id })).job, (found) => found === null, `job ${job.id} to expire`, 10_000);
    }
    await uploadsGone(server);
    expect((await allRows(server.client, 'kept')).map((row) => row.values)).toEqual(range(1, 5).map(expectedPerson));
  });
});
