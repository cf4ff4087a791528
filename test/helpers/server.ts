import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, buildApp } from '../../src/app';
import { type Config, loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { type JobFieldsFragment, JobDocument } from '../generated/graphql';
import { GraphQLClient } from './client';

export interface TestServer {
  app: App;
  client: GraphQLClient;
  dataDir: string;
  url: string;
  stop(): Promise<void>;
}

/** Starts the real service on 127.0.0.1 with a fresh data directory. */
export async function startServer(overrides: Partial<Config> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'sluice-test-')));
  const config = loadConfig({}, { host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', ...overrides });
  const app = buildApp(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  const url = await app.start();
  return {
    app,
    client: new GraphQLClient(url),
    dataDir: dir,
    url,
    async stop() {
      await app.stop();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Polls `job(id)` until the predicate holds (by default: the job is terminal). */
export async function waitForJob(
  client: GraphQLClient,
  id: string,
  until: (job: JobFieldsFragment) => boolean = (job) => TERMINAL.has(job.status),
  timeoutMs = 60_000,
): Promise<JobFieldsFragment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { job } = await client.request(JobDocument, { id });
    if (!job) throw new Error(`job ${id} not found`);
    if (until(job as JobFieldsFragment)) return job as JobFieldsFragment;
    if (Date.now() > deadline) throw new Error(`timed out waiting for job ${id}; last seen ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
