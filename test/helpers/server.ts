import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, buildApp } from '../../src/app';
import { defaultKeyFile } from '../../src/auth/first-key';
import { type Config, loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type JobFieldsFragment, JobDocument, type JobStatus } from '../generated/graphql';
import { GraphQLClient } from './client';

export interface TestServer {
  app: App;
  /** Sends the workspace `default` key the server created at its first start. */
  client: GraphQLClient;
  /** That key, for other clients (WebSocket, SSE, raw fetch). */
  apiKey: string | null;
  dataDir: string;
  url: string;
  stop(): Promise<void>;
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

/** Starts the real service on 127.0.0.1 with a fresh data directory, and a client with its default key. */
export async function startServer(overrides: Partial<Config> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'sluice-test-')));
  const config = loadConfig({}, { host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', ...overrides });
  const app = buildApp(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  const url = await app.start();
  const apiKey = await defaultKey(dir);
  return {
    app,
    client: new GraphQLClient(url, apiKey),
    apiKey,
    dataDir: dir,
    url,
    async stop() {
      await app.stop();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
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

/** What the upload spool under `dataDir` holds: its entries, and those of its tmp/ directory, sorted. */
export async function spoolContents(dataDir: string): Promise<{ entries: string[]; tmp: string[] }> {
  const spool = join(dataDir, 'spool');
  return { entries: (await readdir(spool)).sort(), tmp: (await readdir(join(spool, 'tmp'))).sort() };
}

/** The spool with no upload left in it: only an empty tmp/. */
export const CLEAN_SPOOL = { entries: ['tmp'], tmp: [] };
