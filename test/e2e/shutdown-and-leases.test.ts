import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type IncomingHttpHeaders, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { json } from 'node:stream/consumers';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelJobDocument,
  type ColumnInput,
  DatasetDocument,
  IngestDocument,
  type JobFieldsFragment,
  JobDocument,
  JobWebhookDeliveriesDocument,
  RegisterWebhookDocument,
} from '../generated/graphql';
import { CSRF_HEADER, type GraphQLClient } from '../helpers/client';
import { ON_POSTGRES } from '../helpers/engine';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv } from '../helpers/files';
import { openWriteLockProbe } from '../helpers/crash';
import { runServerToExit, type ServerProcess, startServerProcess } from '../helpers/process';
import { ingest, jobCount, submit } from '../helpers/queries';
import { startReceiver } from '../helpers/receiver';
import { arrivingUploads, removeDataDir, startServer, TERMINAL, until, waitForJob } from '../helpers/server';
import { queryStore } from '../helpers/store';
import { HANGING_CELL, SLOW_PATTERN } from '../helpers/slow-pattern';

// Graceful stop (SIGTERM/SIGINT), the forced second signal, one process per data directory, and
// leases lapsing under a hung worker. Process tests run the real service as `npm start`
// does (the built dist/main.mjs); the lease test runs in-process with short timings.

/** Rows of the large people file (about 70 MB): a job on it is still running seconds after it started, with two cores at work. */
const ROWS = 1_000_000;
const GRACE_MS = 5000;
/** What a stop may take beyond its deadline: closing sockets and the database, and the exit itself. */
const EXIT_MARGIN_MS = 2000;

/** Rows before the hanging one: over a megabyte, so that several bursts (and checkpoints) come before it. */
const ROWS_BEFORE_HANG = 100_000;

const plainColumns: ColumnInput[] = [
  { name: 'code', type: 'STRING' },
  { name: 'n', type: 'INTEGER' },
];
const hangingColumns: ColumnInput[] = [
  { name: 'code', type: 'STRING', pattern: SLOW_PATTERN },
  { name: 'n', type: 'INTEGER' },
];

let bigFile: string;
let hangingFile: string;
let smallFile: string;
beforeAll(async () => {
  const dir = await tempDir();
  bigFile = join(dir, 'people.csv');
  await writeGeneratedCsv(bigFile, PERSON_HEADER, ROWS, personLine);
  hangingFile = join(dir, 'hanging.csv');
  await writeGeneratedCsv(hangingFile, 'code,n', ROWS_BEFORE_HANG + 2, (i) => `${i === ROWS_BEFORE_HANG + 1 ? HANGING_CELL : 'aaa'},${i}`);
  smallFile = join(dir, 'small.csv');
  await writeGeneratedCsv(smallFile, 'code,n', 2, (i) => `bbb,${i}`);
});
afterAll(async () => {
  if (bigFile) await rm(dirname(bigFile), { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles when the process exits, with its exit code and when (ms since the epoch). Call it right after the start. */
function exitOf(server: ServerProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => server.child.once('exit', (code) => resolve({ code, at: Date.now() })));
}

const running = (server: ServerProcess | undefined): server is ServerProcess => !!server && server.child.exitCode === null && server.child.signalCode === null;

/** Kills whatever of these processes a test left running. */
async function killAll(...servers: Array<ServerProcess | undefined>): Promise<void> {
  for (const server of servers) if (running(server)) await server.kill('SIGKILL');
}

async function health(url: string): Promise<{ status: number; body: { status: string } }> {
  const response = await fetch(new URL('/health', url));
  return { status: response.status, body: (await response.json()) as { status: string } };
}

/** Polls /health until the server says it is stopping: from then on it is draining, whenever the signal arrived. */
async function untilDraining(server: ServerProcess): Promise<void> {
  const report = await until(() => health(server.url), (h) => h.status !== 200, 'the server to start draining', 10_000);
  expect(report).toMatchObject({ status: 503, body: { status: 'stopping' } });
}

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A GraphQL multipart ingest request into `dataset`, in two pieces: up to the file's content, and after it. */
function multipartIngest(dataset: string) {
  const boundary = `sluice-${randomUUID()}`;
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const operations = JSON.stringify({ query: print(IngestDocument), variables: { input: { dataset, file: null } } });
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head:
      field('operations', operations) +
      field('map', JSON.stringify({ 0: ['variables.input.file'] })) +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${dataset}.csv"\r\nContent-Type: text/csv\r\n\r\n`,
    tail: `\r\n--${boundary}--\r\n`,
  };
}

/** A multipart POST over node:http with the client's key (and the CSRF header), and its answer with the JSON body. */
function post(client: GraphQLClient, contentType: string) {
  const request = httpRequest(client.url, { method: 'POST', headers: { 'content-type': contentType, ...CSRF_HEADER, ...client.authorization } });
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    request.once('response', (response: IncomingMessage) => {
      json(response).then((body) => resolve({ status: response.statusCode!, headers: response.headers, body }), reject);
    });
    request.once('error', reject);
  });
  answer.catch(() => undefined); // a test that fails before awaiting it must not leave an unhandled rejection
  return { request, answer };
}

/**
 * A multipart upload sent in one write. A refusal comes before the body is read and closes the
 * connection: a client still writing its body then may get EPIPE instead of the answer (fetch does).
 */
function uploadAtOnce(client: GraphQLClient, dataset: string, csv: string): Promise<HttpAnswer> {
  const { contentType, head, tail } = multipartIngest(dataset);
  const { request, answer } = post(client, contentType);
  request.end(head + csv + tail);
  return answer;
}

/**
 * A multipart upload whose file part stays open until `finish()`: it is let in before a stop, and its
 * operation reaches the resolver (after the whole file is spooled) while the server drains.
 */
function openSlowUpload(client: GraphQLClient, dataset: string) {
  const { contentType, head, tail } = multipartIngest(dataset);
  const { request, answer } = post(client, contentType);
  request.write(`${head}code,n\nccc,1\n`);
  return {
    finish(): Promise<HttpAnswer> {
      request.end(`ccc,2\n${tail}`);
      return answer;
    },
  };
}


interface JobRow {
  status: string;
  stage: string;
  attempts: number;
  processed_rows: number;
  lease_owner: string | null;
  lease_token: string | null;
  checkpoint: unknown;
}

/** The job as the engine's storage holds it (read-only), as a stopped process left it. */
async function jobRow(dataDir: string, id: string): Promise<JobRow> {
  const [row] = await queryStore<JobRow>(dataDir, 'SELECT status, stage, attempts, processed_rows, lease_owner, lease_token, checkpoint FROM jobs WHERE id = ?', id);
  return row;
}

/** The processes holding the storage: SQLite's data-directory lock, or PostgreSQL's registered instances. */
const holders = (dataDir: string) => queryStore<{ pid: number }>(dataDir, `SELECT pid FROM ${ON_POSTGRES ? 'instances' : 'instance_lock'}`);

async function getJob(client: GraphQLClient, id: string): Promise<JobFieldsFragment> {
  const { job } = await client.request(JobDocument, { id });
  expect(job).not.toBeNull();
  return job!;
}

/** Pages through a dataset checking that it holds exactly the people rows 1..rows, in order: each once, none missing. */
async function expectPeople(client: GraphQLClient, name: string, rows: number): Promise<void> {
  let next = 1;
  let after: string | null | undefined;
  for (;;) {
    const { dataset } = await client.request(DatasetDocument, { name, first: 1000, after });
    const values = dataset!.rows.edges.map((edge) => edge.node.values);
    expect(values).toEqual(values.map((_, i) => expectedPerson(next + i)));
    next += values.length;
    if (!dataset!.rows.pageInfo.hasNextPage) break;
    after = dataset!.rows.pageInfo.endCursor;
  }
  expect(next - 1).toBe(rows);
}

/** A short grace, and webhook attempts to a local receiver that wait as long as the test makes them. */
const WEBHOOK_STOP_ENV = { SLUICE_SHUTDOWN_GRACE_MS: String(GRACE_MS), SLUICE_WEBHOOK_ALLOW_PRIVATE: 'true', SLUICE_WEBHOOK_TIMEOUT_MS: '60000' };

/** A webhook receiver that holds its first request open until the test answers it (`held()`); later ones get 200. */
async function startHoldingReceiver() {
  let held: ServerResponse | undefined;
  const receiver = await startReceiver((n) => (n === 0 ? (response) => void (held = response) : 200));
  return { receiver, held: () => held };
}

describe('a graceful stop', () => {
  it('drains during a large ingest (503 SHUTTING_DOWN, /health stopping), releases the job at a checkpoint, exits 0; after restart the job completes, every row once', async () => {
    const dataDir = await tempDir();
    // The job.started attempt is held open: the stop waits for attempts in flight, so the server
    // drains until the test answers it, however fast the job pauses.
    const { receiver, held } = await startHoldingReceiver();
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, WEBHOOK_STOP_ENV);
      const exited = exitOf(first);
      const { registerWebhook } = await first.client.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.started'] });
      expect(registerWebhook.userErrors).toEqual([]);
      const { id } = await submit(first.client, { dataset: 'people', columns: PERSON_COLUMNS }, bigFile);
      await until(async () => receiver.requests.length, (count) => count === 1, 'job.started to reach the receiver');
      await waitForJob(first.client, id, (job) => TERMINAL.has(job.status) || job.progress.processedRows > 0);

      // An upload that got in before the stop, still sending its file.
      const late = openSlowUpload(first.client, 'late');
      await until(() => arrivingUploads(dataDir), (entries) => entries.length === 1, 'the late upload to be spooling');

      const before = await getJob(first.client, id);
      expect(before).toMatchObject({ status: 'RUNNING', attempts: 1 });
      expect(before.progress.processedRows).toBeLessThan(ROWS);
      const signalled = Date.now();
      first.child.kill('SIGTERM');
      await untilDraining(first);

      // A new upload is refused before its body is read.
      expect(await uploadAtOnce(first.client, 'refused', 'code,n\nddd,1\n')).toEqual({
        status: 503,
        headers: expect.objectContaining({ 'retry-after': '5', 'content-type': 'application/json' }),
        body: { errors: [{ message: expect.stringContaining('shutting down'), extensions: { code: 'SHUTTING_DOWN' } }] },
      });
      // The upload that was let in reaches the resolver, which refuses it; its spooled file goes.
      const refusedLate = await late.finish();
      expect(refusedLate.status).toBe(503);
      expect(refusedLate.headers['retry-after']).toBe('5');
      expect(refusedLate.body).toMatchObject({ data: null, errors: [{ path: ['ingest'], extensions: { code: 'SHUTTING_DOWN' } }] });
      await until(() => arrivingUploads(dataDir), (entries) => entries.length === 0, 'the refused upload to be removed', 10_000);

      // Queries are still answered: the job paused at a checkpoint and went back to the queue, its attempt given back.
      const released = await waitForJob(first.client, id, (job) => job.status !== 'RUNNING', GRACE_MS);
      expect(released).toMatchObject({ status: 'PENDING', stage: 'queued', attempts: 0 });
      expect(released.progress.processedRows).toBeGreaterThanOrEqual(before.progress.processedRows);
      expect(released.progress.processedRows).toBeLessThan(ROWS);
      expect(await jobCount(first.client)).toBe(1); // neither refused upload made a job

      expect(running(first)).toBe(true); // still waiting for the webhook attempt
      const answered = Date.now();
      held()!.writeHead(200).end();
      const exit = await exited;
      expect(exit.code).toBe(0);
      expect(exit.at).toBeGreaterThanOrEqual(answered);
      expect(exit.at - signalled).toBeLessThan(GRACE_MS + EXIT_MARGIN_MS);

      // What the stop left: the job queued with its checkpoint and counters, no lease, the data directory free.
      expect(await jobRow(dataDir, id)).toMatchObject({
        status: 'PENDING',
        stage: 'queued',
        attempts: 0,
        processed_rows: released.progress.processedRows,
        lease_owner: null,
        lease_token: null,
        checkpoint: expect.anything(), // kept for the resume
      });
      expect(await holders(dataDir)).toEqual([]);

      second = await startServerProcess(dataDir, WEBHOOK_STOP_ENV);
      // The first look after the restart: the counters were kept, not started over.
      expect((await getJob(second.client, id)).progress.processedRows).toBeGreaterThanOrEqual(released.progress.processedRows);
      // The rest of the file: PostgreSQL's ingest of these rows is several times slower than SQLite's on this machine (docs/scaling.md).
      const job = await waitForJob(second.client, id, undefined, ON_POSTGRES ? 300_000 : 60_000);
      expect(job).toMatchObject({ status: 'COMPLETED', attempts: 1, error: null });
      expect(job.progress).toMatchObject({ processedRows: ROWS, rowsWritten: ROWS, rowsRejected: 0 });
      expect(job.dataset.rowCount).toBe(ROWS);
      await expectPeople(second.client, 'people', ROWS);
    } finally {
      await killAll(first, second);
      await receiver.close();
      await removeDataDir(dataDir);
    }
  }, ON_POSTGRES ? 420_000 : 120_000);

  it('terminates a worker still busy at the grace deadline and releases its job from its last checkpoint', async () => {
    const dataDir = await tempDir();
    const grace = 1500;
    const env = {
      SLUICE_SHUTDOWN_GRACE_MS: String(grace),
      SLUICE_HEARTBEAT_INTERVAL_MS: '100',
      // Far above a burst's time, so that stalled means stuck on the hanging cell.
      SLUICE_STALL_THRESHOLD_MS: '2000',
      SLUICE_BATCH_ROWS: '1000',
      SLUICE_CANCEL_TIMEOUT_MS: '100',
    };
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, env);
      const exited = exitOf(first);
      const { id } = await submit(first.client, { dataset: 'busy', columns: hangingColumns }, hangingFile);
      // Stalled past its checkpoints: the worker is stuck validating the hanging cell, in a burst it cannot pause in.
      const stalled = await waitForJob(first.client, id, (job) => TERMINAL.has(job.status) || (job.stalled && job.progress.processedRows > 0), 30_000);
      expect(stalled.status).toBe('RUNNING');
      const checkpointed = stalled.progress.processedRows;
      expect(checkpointed).toBeGreaterThan(0);
      expect(checkpointed).toBeLessThanOrEqual(ROWS_BEFORE_HANG);

      const signalled = Date.now();
      first.child.kill('SIGTERM');
      const exit = await exited;
      expect(exit.code).toBe(0);
      expect(exit.at - signalled).toBeGreaterThanOrEqual(grace);
      expect(exit.at - signalled).toBeLessThan(grace + EXIT_MARGIN_MS);
      expect(await jobRow(dataDir, id)).toMatchObject({ status: 'PENDING', stage: 'queued', attempts: 0, processed_rows: checkpointed, lease_owner: null });

      second = await startServerProcess(dataDir, env);
      // It resumes from that checkpoint (and hangs on the same cell again).
      expect((await getJob(second.client, id)).progress.processedRows).toBe(checkpointed);
      const resumed = await waitForJob(second.client, id, (job) => job.stage === 'resuming' || TERMINAL.has(job.status), 30_000);
      expect(resumed).toMatchObject({ status: 'RUNNING', attempts: 1, progress: { processedRows: checkpointed } });
      const { cancelJob } = await second.client.request(CancelJobDocument, { id });
      expect(cancelJob.job).toMatchObject({ status: 'CANCELLED', attempts: 1, dataset: { rowCount: 0 } });
    } finally {
      await killAll(first, second);
      await removeDataDir(dataDir);
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s, finishes the webhook attempt in flight before exiting 0; after restart it is recorded as delivered, not sent again', async (signal) => {
    const dataDir = await tempDir();
    const { receiver, held } = await startHoldingReceiver();
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, WEBHOOK_STOP_ENV);
      const exited = exitOf(first);
      const job = await ingest(first.client, { dataset: 'hooked', webhookUrl: receiver.url }, smallFile);
      expect(job.status).toBe('COMPLETED');
      await until(async () => receiver.requests.length, (count) => count === 1, 'job.completed to reach the receiver');

      const signalled = Date.now();
      first.child.kill(signal);
      await untilDraining(first);
      // The receiver takes its time (well within the grace period); the process waits for it.
      await sleep(1000);
      expect(running(first)).toBe(true);
      const answered = Date.now();
      held()!.writeHead(200).end();
      const exit = await exited;
      expect(exit.code).toBe(0);
      expect(exit.at).toBeGreaterThanOrEqual(answered);
      expect(exit.at - signalled).toBeLessThan(GRACE_MS);

      second = await startServerProcess(dataDir, WEBHOOK_STOP_ENV);
      const deliveries = (await second.client.request(JobWebhookDeliveriesDocument, { id: job.id })).job!.webhookDeliveries;
      expect(deliveries).toEqual([expect.objectContaining({ event: 'job.completed', attempts: 1, lastStatusCode: 200, delivered: true, nextAttemptAt: null })]);
      // The restarted dispatcher sends what is due at once: nothing.
      await sleep(500);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await killAll(first, second);
      await receiver.close();
      await removeDataDir(dataDir);
    }
  });

  it('is cut short by a second signal: exit code 1 at once while the stop still waits for a webhook attempt', async () => {
    const dataDir = await tempDir();
    const receiver = await startReceiver(() => () => undefined); // never answers
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess(dataDir, WEBHOOK_STOP_ENV);
      const exited = exitOf(server);
      await ingest(server.client, { dataset: 'forced', webhookUrl: receiver.url }, smallFile);
      await until(async () => receiver.requests.length, (count) => count === 1, 'job.completed to reach the receiver');

      server.child.kill('SIGTERM');
      await untilDraining(server);
      await sleep(300);
      expect(running(server)).toBe(true);
      const forced = Date.now();
      server.child.kill('SIGTERM');
      const exit = await exited;
      expect(exit.code).toBe(1);
      expect(exit.at - forced).toBeLessThan(1000);
    } finally {
      await killAll(server);
      await receiver.close();
      await removeDataDir(dataDir);
    }
  });
});

/**
 * Stops the process (SIGSTOP) at a moment it holds SQLite's write lock (`inside`) or does not: frozen
 * inside a write, it blocks every other process's writes for as long as it stays frozen.
 */
async function freeze(server: ServerProcess, dataDir: string, inside: boolean): Promise<void> {
  const probe = openWriteLockProbe(dataDir);
  try {
    for (;;) {
      server.child.kill('SIGSTOP');
      await sleep(50); // the signal has landed
      if (probe.held() === inside) return;
      server.child.kill('SIGCONT');
      await sleep(inside ? 1 : 20);
    }
  } finally {
    probe.close();
  }
}

// A data directory's one process, and its lock, are SQLite's: PostgreSQL instances serve one database together, and
// tell a dead instance by its heartbeat stopping (its lease lapsing), not by its pid.
describe.skipIf(ON_POSTGRES)('one process per data directory', () => {
  it('refuses a second process naming the first; once the first is SIGKILLed a new one starts at once and finishes its job, every row once', async () => {
    const dataDir = await tempDir();
    // A lease and lock staleness far longer than the test: only the holder's pid can tell it is dead.
    const env = { SLUICE_LEASE_MS: '600000' };
    let first: ServerProcess | undefined;
    let third: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, env);
      const { id } = await submit(first.client, { dataset: 'people', columns: PERSON_COLUMNS }, bigFile);
      await waitForJob(first.client, id, (job) => TERMINAL.has(job.status) || job.progress.processedRows > 0);

      const second = await runServerToExit(dataDir);
      expect(second.code).toBe(1);
      const fatal = second.lines.find((line) => line.level === 60);
      expect(fatal?.msg).toContain(`the data directory is in use by process ${first.child.pid}`);
      expect(second.lines.map((line) => line.msg)).not.toContain('sluice is listening');
      // The first is untouched: it still holds the directory and runs the job, on its first attempt.
      expect(await holders(dataDir)).toEqual([{ pid: first.child.pid }]);
      const during = await getJob(first.client, id);
      expect(during).toMatchObject({ status: 'RUNNING', attempts: 1 });

      await first.kill('SIGKILL');
      expect(await holders(dataDir)).toEqual([{ pid: first.child.pid }]); // left behind, fresh
      third = await startServerProcess(dataDir, env);
      const job = await waitForJob(third.client, id);
      expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null });
      expect(job.progress).toMatchObject({ processedRows: ROWS, rowsWritten: ROWS, rowsRejected: 0 });
      expect(await jobCount(third.client)).toBe(1);
      await expectPeople(third.client, 'people', ROWS);
    } finally {
      await killAll(first, third);
      await removeDataDir(dataDir);
    }
  });

  it('starts at once after a SIGKILL while the dead holder is still a zombie its parent has not reaped, and resumes its job', async () => {
    const dataDir = await tempDir();
    const env = { SLUICE_LEASE_MS: '600000' };
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, env, { zombie: true });
      const { id } = await submit(first.client, { dataset: 'people', columns: PERSON_COLUMNS }, bigFile);
      await waitForJob(first.client, id, (job) => TERMINAL.has(job.status) || job.progress.processedRows > 0);
      await first.kill('SIGKILL');
      expect(readFileSync(`/proc/${first.pid}/stat`, 'utf8')).toMatch(/\) Z /); // dead, not reaped

      second = await startServerProcess(dataDir, env);
      const job = await waitForJob(second.client, id);
      expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null });
      await expectPeople(second.client, 'people', ROWS);
    } finally {
      first?.child.kill('SIGKILL'); // the parent that kept the zombie
      await killAll(second);
      await removeDataDir(dataDir);
    }
  });

  it('refuses to start, saying why, while a process frozen inside a write holds the database locked', async () => {
    const dataDir = await tempDir();
    const env = { SLUICE_LEASE_MS: '1500', SLUICE_HEARTBEAT_INTERVAL_MS: '200', SLUICE_SQLITE_BUSY_TIMEOUT_MS: '500' };
    let first: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, env);
      const { id } = await submit(first.client, { dataset: 'people', columns: PERSON_COLUMNS }, bigFile);
      await waitForJob(first.client, id, (job) => TERMINAL.has(job.status) || job.progress.processedRows > 0);
      await freeze(first, dataDir, true);
      await sleep(2000); // past the lock's staleness: only the database lock stands in the way

      const second = await runServerToExit(dataDir, env);
      expect(second.code).toBe(1);
      expect(second.lines.find((line) => line.level === 60)?.msg).toContain('the database is locked by another process');
      expect(second.stderr).not.toContain('    at '); // no stack trace
    } finally {
      first?.child.kill('SIGCONT');
      await killAll(first);
      await removeDataDir(dataDir);
    }
  });

  it('a process resumed after a freeze that another took the directory from takes none of its jobs, and exits 1', async () => {
    const dataDir = await tempDir();
    const env = { SLUICE_LEASE_MS: '1500', SLUICE_HEARTBEAT_INTERVAL_MS: '200' };
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    try {
      first = await startServerProcess(dataDir, env);
      const firstExit = exitOf(first);
      const { id } = await submit(first.client, { dataset: 'people', columns: PERSON_COLUMNS }, bigFile);
      await waitForJob(first.client, id, (job) => TERMINAL.has(job.status) || job.progress.processedRows > 0);
      await freeze(first, dataDir, false);
      await sleep(2500); // past the lock's staleness: the frozen holder counts as gone

      second = await startServerProcess(dataDir, env);
      const taken = await waitForJob(second.client, id, (job) => TERMINAL.has(job.status) || (job.attempts === 2 && job.progress.processedRows > 0));
      expect(taken).toMatchObject({ status: 'RUNNING', attempts: 2 });
      const token = (await jobRow(dataDir, id)).lease_token;
      first.child.kill('SIGCONT');

      expect((await firstExit).code).toBe(1);
      const during = await jobRow(dataDir, id);
      expect(during.status === 'COMPLETED' || during.lease_token === token).toBe(true); // still the second's attempt
      const job = await waitForJob(second.client, id);
      expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null });
      await expectPeople(second.client, 'people', ROWS);
    } finally {
      first?.child.kill('SIGCONT');
      await killAll(first, second);
      await removeDataDir(dataDir);
    }
  });
});

describe('leases', () => {
  it('reaps a job whose worker hangs once its lease lapses, retries it from its checkpoint, then fails it INTERRUPTED once SLUICE_MAX_ATTEMPTS attempts in a row made no progress; the job queued behind it completes', async () => {
    // Stall and lease leave room for a worker slow to start on a busy machine; both are still short.
    const server = await startServer({ heartbeatIntervalMs: 100, stallThresholdMs: 1000, leaseMs: 2000, maxAttempts: 2, maxConcurrentJobs: 1, batchRows: 1000 });
    try {
      expect((await ingest(server.client, { dataset: 'leased', columns: plainColumns }, smallFile)).status).toBe('COMPLETED');
      const hung = await submit(server.client, { dataset: 'leased', columns: hangingColumns }, hangingFile);
      const behind = await submit(server.client, { dataset: 'behind', columns: plainColumns }, smallFile);

      // Every state of the hung job seen while it lives; the job behind it must wait for the only slot.
      const seen: JobFieldsFragment[] = [];
      await until(
        async () => {
          // The job behind is read first: if the hung one has not ended after, the other was read while it lived.
          const waiting = await getJob(server.client, behind.id);
          const job = await getJob(server.client, hung.id);
          seen.push(job);
          if (!TERMINAL.has(job.status)) expect(waiting.status).toBe('PENDING');
          return job;
        },
        (job) => TERMINAL.has(job.status),
        `job ${hung.id} to end`,
        60_000,
      );
      const ended = seen.at(-1)!;
      // Attempts that advanced the checkpoint towards the hanging row do not count (the second may
      // still commit rows of the burst before it, as its reads start at the checkpoint); the last two
      // hung there without progress.
      expect(ended).toMatchObject({ status: 'FAILED', stalled: false, error: { code: 'INTERRUPTED' } });
      expect(ended.attempts).toBeGreaterThanOrEqual(3);
      expect(ended.error!.message).toContain('2 times in a row without progress, the last time because its worker stopped responding');
      const lastTwo = seen.filter((job) => job.attempts >= ended.attempts - 1 && job.status === 'RUNNING');
      expect(new Set(lastTwo.map((job) => job.progress.processedRows)).size).toBe(1);

      // First attempt: stalled (no renewal past the stall threshold) while its lease still held, last seen at its checkpoint.
      const firstStalled = seen.findLast((job) => job.status === 'RUNNING' && job.attempts === 1 && job.stalled);
      expect(firstStalled).toBeDefined();
      const checkpointed = firstStalled!.progress.processedRows;
      expect(checkpointed).toBeGreaterThan(0);
      // Second attempt: the reaped job was claimed again and resumed from its checkpoint, counters kept.
      const retried = seen.filter((job) => job.status === 'RUNNING' && job.attempts === 2);
      expect(retried.some((job) => job.stage === 'resuming' && job.progress.processedRows === checkpointed)).toBe(true);

      // Nothing of it is visible: the dataset is as the first job left it.
      const { dataset } = await server.client.request(DatasetDocument, { name: 'leased', first: 10 });
      expect(dataset!.rowCount).toBe(2);
      expect(dataset!.rows.edges.map((edge) => edge.node.values)).toEqual([
        { code: 'bbb', n: 1 },
        { code: 'bbb', n: 2 },
      ]);
      const next = await waitForJob(server.client, behind.id, undefined, 10_000);
      expect(next).toMatchObject({ status: 'COMPLETED', attempts: 1, result: { rowsWritten: 2 } });
      // No worker is left behind: the hung one was terminated, the last one exits after its report.
      await until(async () => server.app.services.runner.activeCount, (count) => count === 0, 'every worker to exit', 5000);
    } finally {
      await server.stop();
    }
  });

  it('tracks the attempt that re-claims a reaped job (a free slot claims it at once): the old worker exiting does not drop it, and no worker is left behind', async () => {
    const server = await startServer({ heartbeatIntervalMs: 100, stallThresholdMs: 1000, leaseMs: 2000, maxAttempts: 2, maxConcurrentJobs: 2, batchRows: 1000 });
    const { runner } = server.app.services;
    try {
      const hung = await submit(server.client, { dataset: 'leased', columns: hangingColumns }, hangingFile);
      const tracked: boolean[] = [];
      const ended = await until(
        async () => {
          // The job is read at some moment between these two looks at the books: an attempt RUNNING then
          // was in them at the first look (claims count from their start), or, claimed after it, still is
          // at the second (an attempt lives at least a lease). Looking only after the answer raced with
          // an attempt that ended while the answer was on its way.
          const before = runner.activeCount;
          const job = await getJob(server.client, hung.id);
          if (job.status === 'RUNNING') tracked.push(before >= 1 || runner.activeCount >= 1);
          return job;
        },
        (job) => TERMINAL.has(job.status),
        `job ${hung.id} to end`,
        60_000,
      );
      expect(ended).toMatchObject({ status: 'FAILED', error: { code: 'INTERRUPTED' } });
      expect(tracked).not.toContain(false); // every attempt of a RUNNING job has its worker in the runner's books
      await until(async () => runner.activeCount, (count) => count === 0, 'every worker to exit', 5000);
      // A worker left spinning on the hanging row would keep a core busy in every second; the pool's
      // replacement for the ended thread loads its code once, which takes a bounded while.
      await until(
        async () => {
          const before = process.cpuUsage();
          await sleep(1000);
          const used = process.cpuUsage(before);
          return (used.user + used.system) / 1000;
        },
        (cpuMs) => cpuMs < 500,
        'a second with less than 500 ms of CPU',
        15_000,
      );
    } finally {
      await server.stop();
    }
  });
});
