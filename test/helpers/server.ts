import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { type App, buildApp } from '../../src/app';
import { defaultKeyFile } from '../../src/auth/first-key';
import { type Config, loadConfig } from '../../src/config';
import pino, { type Logger } from 'pino';
import { createLogger } from '../../src/log';
import { type JobFieldsFragment, JobDocument, type JobStatus } from '../generated/graphql';
import { GraphQLClient } from './client';
import { dropEngineStorage, engineConfig, ON_POSTGRES } from './engine';

export interface TestServer {
  app: App;
  /** Sends the workspace `default` key the server created at its first start. */
  client: GraphQLClient;
  /** That key, for other clients (WebSocket, SSE, raw fetch). */
  apiKey: string | null;
  dataDir: string;
  url: string;
  /** The last lines the server logged at level error, so that an assertion on a failed job can say what the server saw. */
  loggedErrors(): string;
  stop(): Promise<void>;
}

/** Lines logged kept per test server: enough for a failing test's story, bounded for a long suite. */
const KEPT_LOG_LINES = 20;

/**
 * The test server's logger: error lines kept in memory (the server's own log is what explains an
 * INTERNAL_ERROR); TEST_LOG_LEVEL, when set, also prints everything from that level on.
 */
function testLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const { error } = pino.levels.values;
  const printed = pino.levels.values[process.env.TEST_LOG_LEVEL ?? ''] ?? Infinity;
  const destination = {
    write(line: string) {
      const { level } = JSON.parse(line) as { level: number };
      if (level >= error) lines.push(line.trim());
      if (lines.length > KEPT_LOG_LINES) lines.shift();
      if (level >= printed) process.stdout.write(line);
    },
  };
  return { log: createLogger(pino.levels.labels[Math.min(error, printed)], destination), lines };
}

/** The key the service created for workspace `default` at its first start in `dataDir` (null when authentication is off). */
export async function defaultKey(dataDir: string): Promise<string | null> {
  try {
    return (await readFile(defaultKeyFile(dataDir), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Removes a data directory with what the engine under test keeps of it elsewhere (its PostgreSQL schema). */
export async function removeDataDir(dataDir: string): Promise<void> {
  await dropEngineStorage(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}

/** Starts the real service on 127.0.0.1 with a fresh data directory, and a client with its default key. */
/** A server started before the suite's tests and stopped after them: call the function for it. */
export function serverForSuite(overrides: Partial<Config> = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startServer(overrides);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => server!;
}

export async function startServer(overrides: Partial<Config> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'sluice-test-')));
  const config = loadConfig({}, { host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', ...engineConfig(dir), ...overrides });
  const { log, lines } = testLogger();
  const app = buildApp(config, log);
  const url = await app.start();
  const apiKey = await defaultKey(dir);
  return {
    app,
    client: new GraphQLClient(url, apiKey),
    apiKey,
    dataDir: dir,
    url,
    loggedErrors: () => lines.join('\n'),
    async stop() {
      await app.stop();
      if (!dataDir) await removeDataDir(dir);
    },
  };
}

/** The server's GET /health URL. */
export function healthUrl(server: { url: string }): string {
  return new URL('/health', server.url).toString();
}

/** The open subscriptions (WebSocket and SSE) /health counts. */
export async function openSubscriptions(server: { url: string }): Promise<number> {
  return ((await (await fetch(healthUrl(server))).json()) as { subscriptions: number }).subscriptions;
}

/** The statuses a job never leaves. */
export const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Polls `probe` until `done` holds for what it returns; polling is the only waiting. */
export async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls `job(id)` until the predicate holds (by default: the job is terminal). */
export async function waitForJob(
  client: GraphQLClient,
  id: string,
  predicate: (job: JobFieldsFragment) => boolean = (job) => TERMINAL.has(job.status),
  timeoutMs = 60_000,
): Promise<JobFieldsFragment> {
  return until(
    async () => {
      const { job } = await client.request(JobDocument, { id });
      if (!job) throw new Error(`job ${id} not found`);
      return job as JobFieldsFragment;
    },
    predicate,
    `job ${id}`,
    timeoutMs,
  );
}

/** The uploads a server holds: those stored for jobs (the keys its engine's BlobStore lists) and those still arriving (staged in its data directory), each sorted. */
export interface HeldUploads {
  stored: string[];
  arriving: string[];
}

/** The uploads arriving at the servers on `dataDir`: files staged in SQLite's spool/tmp/, or in PostgreSQL's scratch/staging/<process>/ folders. */
export async function arrivingUploads(dataDir: string): Promise<string[]> {
  if (!ON_POSTGRES) return readdir(join(dataDir, 'spool', 'tmp'));
  const staging = join(dataDir, 'scratch', 'staging');
  const folders = await readdir(staging).catch(() => [] as string[]);
  return (await Promise.all(folders.map((folder) => readdir(join(staging, folder)).catch(() => [] as string[])))).flat();
}

/**
 * Leaves a half-received upload in the data directory as a process that died while receiving it
 * would: in SQLite's spool/tmp/, or in a staging folder named after a process that no longer runs
 * (PostgreSQL's instances on one host share the scratch folder).
 */
export async function leaveHalfReceivedUpload(dataDir: string, content: string): Promise<void> {
  // Process ids stay below pid_max: no process has this one.
  const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const folder = ON_POSTGRES ? join(dataDir, 'scratch', 'staging', `${deadPid}-${randomUUID()}`) : join(dataDir, 'spool', 'tmp');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, randomUUID()), content);
}

export async function heldUploads(server: Pick<TestServer, 'app' | 'dataDir'>): Promise<HeldUploads> {
  return { stored: (await server.app.engine.blobs.list()).sort(), arriving: (await arrivingUploads(server.dataDir)).sort() };
}

/** No upload held: none stored, none arriving. */
export const NO_UPLOADS: HeldUploads = { stored: [], arriving: [] };

/** Waits until the server holds no upload (removing a refused or abandoned upload, or that of an ended job, is asynchronous). */
export async function uploadsGone(server: Pick<TestServer, 'app' | 'dataDir'>, timeoutMs = 10_000): Promise<void> {
  await until(() => heldUploads(server), (held) => isDeepStrictEqual(held, NO_UPLOADS), 'no upload to be held', timeoutMs);
}
