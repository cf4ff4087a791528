// Cases of several Sluice instances (processes started as `npm start` starts them, each with its own
// port and data directory) serving one PostgreSQL schema together.
import { rmSync } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { IngestDocument } from '../../test/generated/graphql';
import { GraphQLClient } from '../../test/helpers/client';
import { type ServerProcess, startServerProcess } from '../../test/helpers/process';
import { healthUrl } from '../../test/helpers/server';
import { onPostgres } from './postgres';
import { COLUMNS, freshDir, measureFanOut, type ServerEnv } from './sluice';

export interface Instance {
  server: ServerProcess;
  /** Sends the key the first instance created (the others find keys in the database and create none). */
  client: GraphQLClient;
}

/**
 * Starts one instance per entry of `envs` on one fresh PostgreSQL schema (the first alone, so that it
 * creates the first API key; then the others together), runs `measure`, then stops and removes them all.
 */
export function withInstances<T>(dataDir: string, envs: ServerEnv[], measure: (instances: Instance[]) => Promise<T>): Promise<T> {
  return onPostgres(async (database) => {
    const dirs = envs.map((_, i) => `${dataDir}-${i}`);
    for (const dir of dirs) freshDir(dir);
    const servers: ServerProcess[] = [];
    const start = (i: number) => startServerProcess(dirs[i], { ...database, ...envs[i] }).then((server) => (servers[i] = server));
    try {
      const first = await start(0);
      await Promise.all(envs.slice(1).map((_, i) => start(i + 1)));
      return await measure(servers.map((server) => ({ server, client: new GraphQLClient(server.url, first.apiKey) })));
    } finally {
      await Promise.all(servers.map((server) => server?.kill('SIGTERM')));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * The fan-out case across instances: the job runs on instance A (uploaded there; B and C run no jobs,
 * SLUICE_RUN_JOBS=false) and the subscribers' connections are spread over B and C, which learn of
 * its progress from PostgreSQL (LISTEN/NOTIFY). Milliseconds from completedAt to the last terminal event.
 */
export function fanOutAcross(dataDir: string, path: string, subscribers: number): Promise<number> {
  const apiOnly = { SLUICE_RUN_JOBS: 'false' };
  return withInstances(dataDir, [{}, apiOnly, apiOnly], ([a, b, c]) => measureFanOut(a.client, [b.server.url, c.server.url], path, subscribers));
}

interface EndedJob {
  id: string;
  status: string;
  instance: string | null;
  progress: { rowsWritten: number; rowsRejected: number };
}

/** The job's status, the instance that ran it and its counts (Job.instance is not in the tests' fragment). */
const EndedJobDocument = parse('query EndedJob($id: ID!) { job(id: $id) { id status instance progress { rowsWritten rowsRejected } } }') as TypedDocumentNode<{ job: EndedJob | null }, { id: string }>;

/** Polls the job every 50 ms until it leaves PENDING and RUNNING. */
async function untilEnded(client: GraphQLClient, id: string): Promise<EndedJob> {
  for (;;) {
    const job = (await client.request(EndedJobDocument, { id })).job!;
    if (job.status !== 'PENDING' && job.status !== 'RUNNING') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ScaleOutSample {
  /** Rows of all the jobs over the seconds from the first upload to the last job's end. */
  rowsPerSecond: number;
  /** How many of the jobs each instance ran (from Job.instance), in the instances' order. */
  jobsPerInstance: number[];
}

/**
 * `jobs` uploads of `path` (`rows` rows) into as many datasets, sent together to the first of
 * `instances` instances (the others claim jobs created there), each running at most
 * `maxConcurrentJobs`; waits for every job to complete.
 */
export function scaleOut(dataDir: string, path: string, rows: number, options: { instances: number; jobs: number; maxConcurrentJobs: number }): Promise<ScaleOutSample> {
  const env = { SLUICE_MAX_CONCURRENT_JOBS: String(options.maxConcurrentJobs) };
  return withInstances(dataDir, Array.from({ length: options.instances }, () => env), async (all) => {
    const started = performance.now();
    const { client } = all[0];
    const uploads = Array.from({ length: options.jobs }, async (_, i) => {
      const answer = await client.upload(IngestDocument, { input: { dataset: `scale-${i}`, columns: COLUMNS } }, path, `scale-${i}.csv`);
      return untilEnded(client, answer.data!.ingest.job!.id);
    });
    const jobs = await Promise.all(uploads);
    const seconds = (performance.now() - started) / 1000;
    const wrong = jobs.find((job) => job.status !== 'COMPLETED' || job.progress.rowsWritten !== rows || job.progress.rowsRejected !== 0);
    if (wrong) throw new Error(`scale-out: job ${wrong.id} ended ${wrong.status} with ${JSON.stringify(wrong.progress)}`);
    const names = await Promise.all(all.map(async ({ server }) => ((await (await fetch(healthUrl(server))).json()) as { instance: string }).instance));
    return { rowsPerSecond: (rows * options.jobs) / seconds, jobsPerInstance: names.map((name) => jobs.filter((job) => job.instance === name).length) };
  });
}
