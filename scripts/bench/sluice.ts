// The cases measured on the real server, started as `npm start` starts it, each in its own data directory.
import { mkdirSync, rmSync } from 'node:fs';
import autocannon from 'autocannon';
import { type ColumnInput, IngestDocument, JobDocument, type JobFieldsFragment, JobProgressDocument } from '../../test/generated/graphql';
import type { IngestFileInput } from '../../test/helpers/queries';
import type { GraphQLClient } from '../../test/helpers/client';
import { type ServerProcess, startServerProcess } from '../../test/helpers/process';
import { SubscriptionClient } from '../../test/helpers/subscribe';
import { percentile } from './stats';

export const COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true },
  { name: 'uuid', type: 'STRING', required: true, pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
  { name: 'name', type: 'STRING', required: true, max: 100 },
  { name: 'email', type: 'EMAIL', required: true },
  { name: 'amount', type: 'DECIMAL', min: 0 },
  { name: 'day', type: 'DATE' },
  { name: 'active', type: 'BOOLEAN' },
  { name: 'notes', type: 'STRING' },
];

/** What a client polling for progress asks for. */
export const POLL_QUERY = 'query Poll($id: ID!) { job(id: $id) { id status stage progress { processedRows totalRows rowsWritten rowsRejected percent rowsPerSecond etaSeconds } error { code message } } }';

export interface IngestSample {
  seconds: number;
  peakRssBytes: number;
  /** job(id) latency seen by a client polling every 20 ms while the job ran. */
  pollP50Ms: number;
  pollP99Ms: number;
  polls: number;
}

/** The environment a server of a case runs with (the engine's settings, for PostgreSQL): none by default, the embedded SQLite engine. */
export type ServerEnv = Record<string, string>;

/** Uploads the file with the column schema and polls until the job ends; from the upload to COMPLETED. */
export function ingest(dataDir: string, path: string, rows: number, env: ServerEnv = {}): Promise<IngestSample> {
  return withServer(dataDir, async (server) => {
    const started = performance.now();
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'bench', columns: COLUMNS } }, path, path.split('/').at(-1)!);
    const id = answer.data!.ingest.job!.id;
    const latencies: number[] = [];
    let job;
    for (;;) {
      const asked = performance.now();
      job = (await server.client.request(JobDocument, { id })).job!;
      if (job.status !== 'RUNNING' && job.status !== 'PENDING') break;
      latencies.push(performance.now() - asked);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    if (job.status !== 'COMPLETED' || job.progress.rowsWritten !== rows || job.progress.rowsRejected !== 0) {
      throw new Error(`the bench job ended ${job.status} with ${JSON.stringify(job.progress)} ${JSON.stringify(job.error)}`);
    }
    return { seconds, peakRssBytes: server.peakRss(), pollP50Ms: percentile(latencies, 0.5), pollP99Ms: percentile(latencies, 0.99), polls: latencies.length };
  }, { env });
}

export interface UpsertSample {
  /** The file into a new dataset keyed by id (APPEND), from the upload to COMPLETED. */
  appendSeconds: number;
  /** Then the same number of rows, every key held, half of them changed (UPSERT). */
  upsertSeconds: number;
}

/** A keyed dataset filled from `base`, then `changes` upserted over it: the cost of UPSERT against APPEND of as many rows. */
export function upsert(dataDir: string, base: string, changes: string, rows: number, env: ServerEnv = {}): Promise<UpsertSample> {
  return withServer(dataDir, async (server) => {
    const input = { dataset: 'keyed', columns: COLUMNS, key: ['id'] };
    const appendSeconds = await timedJob(server.client, input, base, (result) => result.rowsInserted === rows);
    const half = Math.ceil(rows / 2);
    const upsertSeconds = await timedJob(server.client, { ...input, mode: 'UPSERT' }, changes, (result) => result.rowsUpdated === half && result.rowsUnchanged === rows - half);
    return { appendSeconds, upsertSeconds };
  }, { env });
}

/** Runs one job to its end: seconds from the upload to COMPLETED, which must have the result `expected` accepts. */
export async function timedJob(client: GraphQLClient, input: IngestFileInput, path: string, expected: (result: NonNullable<JobFieldsFragment['result']>) => boolean): Promise<number> {
  const started = performance.now();
  const id = (await client.upload(IngestDocument, { input }, path, path.split('/').at(-1)!)).data!.ingest.job!.id;
  for (;;) {
    const job = (await client.request(JobDocument, { id })).job!;
    if (job.status === 'COMPLETED' && job.result && expected(job.result)) return (performance.now() - started) / 1000;
    if (job.status !== 'RUNNING' && job.status !== 'PENDING') throw new Error(`the bench job ended ${job.status} with ${JSON.stringify(job.result)} ${JSON.stringify(job.error)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface LoadSample {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Requests/s of one GraphQL POST (with `headers`, such as an API key's) repeated by autocannon over `connections` connections for `seconds`. */
export async function load(url: string, body: object, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadSample> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) throw new Error(`load on ${url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/** job(id) polled by autocannon on a finished job of a running server. */
export function polling(dataDir: string, sample: string, connections: number, seconds: number, env: ServerEnv = {}): Promise<LoadSample> {
  return withServer(dataDir, async (server) => {
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'polled', columns: COLUMNS } }, sample, 'sample.csv');
    const id = answer.data!.ingest.job!.id;
    while (!['COMPLETED', 'FAILED'].includes((await server.client.request(JobDocument, { id })).job!.status)) await new Promise((resolve) => setTimeout(resolve, 50));
    return load(server.url, { query: POLL_QUERY, variables: { id } }, connections, seconds, server.client.authorization);
  }, { env });
}

/**
 * `subscribers` graphql-ws subscriptions (over 50 connections) on one job: milliseconds from the job's
 * completedAt to the last subscriber's terminal event.
 */
export function fanOut(dataDir: string, path: string, subscribers: number, env: ServerEnv = {}): Promise<number> {
  return withServer(dataDir, (server) => measureFanOut(server.client, [server.url], path, subscribers), { env });
}

/**
 * Uploads `path` through `uploader` and subscribes `subscribers` times to its job over 50 graphql-ws
 * connections spread over the servers at `urls` (with the uploader's key): milliseconds from the job's
 * completedAt to the last subscriber's terminal event.
 */
export async function measureFanOut(uploader: GraphQLClient, urls: string[], path: string, subscribers: number): Promise<number> {
  const clients = Array.from({ length: Math.min(50, subscribers) }, (_, i) => new SubscriptionClient(urls[i % urls.length], 'ws', uploader.apiKey));
  try {
    const answer = await uploader.upload(IngestDocument, { input: { dataset: 'fan-out', columns: COLUMNS } }, path, 'fan-out.csv');
    const id = answer.data!.ingest.job!.id;
    const subscriptions = Array.from({ length: subscribers }, (_, i) => clients[i % clients.length].subscribe(JobProgressDocument, { id }));
    await Promise.all(subscriptions.map((subscription) => subscription.done));
    const job = (await uploader.request(JobDocument, { id })).job!;
    const terminal = subscriptions.map((subscription) => subscription.events.at(-1));
    if (job.status !== 'COMPLETED' || terminal.some((event) => event?.data.jobProgress.status !== 'COMPLETED')) {
      throw new Error('fan-out: not every subscriber got the COMPLETED event');
    }
    return Math.max(...terminal.map((event) => event!.at)) - Date.parse(job.completedAt!);
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

export interface LateUniqueSample {
  /** From the submission of the job declaring the rule to its end. */
  seconds: number;
  /** job(id) latency seen while it ran (polled every 20 ms). */
  pollP99Ms: number;
  pollMaxMs: number;
  /** How the job ingesting another dataset meanwhile ended. */
  concurrent: string;
}

/**
 * A UNIQUE rule declared by a later job on a large dataset that has no index for it: `sample`'s rows
 * (the first rows of `big`: every uuid is taken) checked against all of `big`'s, while `other` is
 * ingested into another dataset. What it costs, and that neither the API nor the other job waits.
 */
export function lateUnique(dataDir: string, big: string, sample: string, sampleRows: number, other: string, checkout?: string): Promise<LateUniqueSample> {
  return withServer(dataDir, async (server) => {
    const upload = async (dataset: string, path: string, columns: ColumnInput[]) =>
      (await server.client.upload(IngestDocument, { input: { dataset, columns } }, path, path.split('/').at(-1)!)).data!.ingest.job!.id;
    const until = async (id: string, done: (job: { status: string }) => boolean) => {
      for (;;) {
        const job = (await server.client.request(JobDocument, { id })).job!;
        if (done(job)) return job;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await until(await upload('big', big, COLUMNS), (job) => job.status === 'COMPLETED');
    const concurrent = await upload('other', other, COLUMNS);
    await until(concurrent, (job) => job.status !== 'PENDING');
    const started = performance.now();
    const id = await upload('big', sample, COLUMNS.map((column) => (column.name === 'uuid' ? { ...column, unique: true } : column)));
    const latencies: number[] = [];
    let job;
    for (;;) {
      const asked = performance.now();
      job = (await server.client.request(JobDocument, { id })).job!;
      latencies.push(performance.now() - asked);
      if (job.status !== 'RUNNING' && job.status !== 'PENDING') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    if (job.status !== 'COMPLETED' || job.progress.rowsRejected !== sampleRows) throw new Error(`the late UNIQUE job ended ${job.status} with ${JSON.stringify(job.progress)} ${JSON.stringify(job.error)}`);
    const ended = await until(concurrent, (j) => !['PENDING', 'RUNNING'].includes(j.status));
    return { seconds, pollP99Ms: percentile(latencies, 0.99), pollMaxMs: Math.max(...latencies), concurrent: ended.status };
  }, { checkout });
}

/**
 * Empties `dir` and makes it: with SLUICE_DATABASE_URL the service does not create its data directory
 * (the SQLite engine does, for its database) and fails its first start writing the first API key there.
 */
export function freshDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/**
 * Runs `measure` against a fresh server (built in `checkout`, this one by default; with `env` added to
 * its environment) on its own data directory, stopped and removed afterwards.
 */
export async function withServer<T>(dataDir: string, measure: (server: ServerProcess) => Promise<T>, { checkout, env = {} }: { checkout?: string; env?: ServerEnv } = {}): Promise<T> {
  freshDir(dataDir);
  const server = await startServerProcess(dataDir, env, { checkout });
  try {
    return await measure(server);
  } finally {
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
