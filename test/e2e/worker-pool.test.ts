import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelJobDocument, type ColumnInput } from '../generated/graphql';
import { csvText, PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeText } from '../helpers/files';
import { type ServerProcess, startServerProcess } from '../helpers/process';
import { ingest, submit } from '../helpers/queries';
import { removeDataDir, until, waitForJob } from '../helpers/server';
import { HANGING_CELL, SLOW_PATTERN } from '../helpers/slow-pattern';

// The pool of ingest threads as an operator sees it in the log of the real service (`npm start`):
// its threads start with the server, run one job after another, and a thread ended by a hard stop
// (a cancel past its timeout, an attempt past its time limit) is replaced, the next job unharmed.

const POOL_SIZE = 2;
/** One column whose pattern holds its thread for seconds on the hanging cell. */
const hangingColumns: ColumnInput[] = [{ name: 'code', type: 'STRING', pattern: SLOW_PATTERN }];

let server: ServerProcess;
let dataDir: string;
let smallFile: string;
let hangingFile: string;
beforeAll(async () => {
  smallFile = await writeText('small.csv', csvText(PERSON_HEADER, ...Array.from({ length: 10 }, (_, i) => personLine(i + 1))));
  // One cell that holds its thread for seconds in one computation: only a hard stop ends that attempt.
  hangingFile = await writeText('hanging.csv', `code\n${HANGING_CELL}\n`);
  dataDir = await tempDir();
  server = await startServerProcess(dataDir, {
    SLUICE_INGEST_WORKERS: String(POOL_SIZE),
    SLUICE_CANCEL_TIMEOUT_MS: '100',
    // Well above a small job's time on a loaded machine, well below the hanging cell's (seconds).
    SLUICE_PARSE_TIME_LIMIT_MS: '5000',
  });
});
afterAll(async () => {
  await server?.kill('SIGTERM');
  await removeDataDir(dataDir);
});

/** The service's log lines with this message. */
function logged(message: string): Array<{ thread: number; jobId?: string; code?: number }> {
  return server.output.stdout.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; thread: number; jobId?: string; code?: number };
      return entry.msg === message ? [entry] : [];
    } catch {
      return [];
    }
  });
}

const startedThreads = () => logged('ingest thread started').map((entry) => entry.thread);
const threadOf = (jobId: string) => logged('the job runs on ingest thread').find((entry) => entry.jobId === jobId)?.thread;

let datasets = 0;

/** Ingests the small file into a dataset of its own (its ids are UNIQUE), which must complete; the thread it ran on. */
async function smallJob(): Promise<number> {
  const job = await ingest(server.client, { dataset: `small-${++datasets}`, columns: PERSON_COLUMNS }, smallFile);
  expect(job.error).toBeNull();
  expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 10 } });
  return threadOf(job.id)!;
}

describe('the pool of ingest threads', () => {
  it('starts its threads with the server and runs jobs one after another on the same thread, starting none for them', async () => {
    expect(startedThreads()).toHaveLength(POOL_SIZE);
    const first = await smallJob();
    const second = await smallJob();
    expect(startedThreads()).toContain(first);
    expect(second).toBe(first);
    expect(startedThreads()).toHaveLength(POOL_SIZE);
  });

  it('replaces a thread ended by a cancel past its timeout, and the next job completes on a thread of the pool', async () => {
    const before = startedThreads();
    const hung = await submit(server.client, { dataset: 'cancelled-hard', columns: hangingColumns }, hangingFile);
    await until(async () => threadOf(hung.id), (thread) => thread !== undefined, 'the hanging job to be on a thread');
    const { cancelJob } = await server.client.request(CancelJobDocument, { id: hung.id });
    expect(cancelJob.job).toMatchObject({ status: 'CANCELLED' });
    await expectReplaced(threadOf(hung.id)!, before);
  });

  it('replaces a thread ended by the attempt time limit (PARSE_TIMEOUT), and the next job completes on a thread of the pool', async () => {
    const before = startedThreads();
    const hung = await submit(server.client, { dataset: 'timed-out', columns: hangingColumns }, hangingFile);
    const ended = await waitForJob(server.client, hung.id);
    expect(ended).toMatchObject({ status: 'FAILED', error: { code: 'PARSE_TIMEOUT' } });
    await expectReplaced(threadOf(hung.id)!, before);
  });
});

/**
 * The thread is gone and one fresh thread took its place (`before`: the threads started until the hard
 * stop): the pool is whole again, and a small job still completes on it without starting another.
 */
async function expectReplaced(ended: number, before: number[]): Promise<void> {
  await until(async () => logged('replacing an ingest thread that exited').map((entry) => entry.thread), (threads) => threads.includes(ended), `thread ${ended} to be replaced`, 10_000);
  const started = await until(async () => startedThreads(), (threads) => threads.length === before.length + 1, 'its replacement to start', 10_000);
  const next = await smallJob();
  expect(next).not.toBe(ended);
  expect(started).toContain(next);
  expect(startedThreads()).toEqual(started);
}
