import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, it } from 'vitest';
import { rowsTable } from '../../src/engines/shared/dataset-record';
import type { JobFieldsFragment } from '../generated/graphql';
import { GraphQLClient } from './client';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from './postgres';
import { type ServerProcess, startServerProcess } from './process';
import { healthUrl, until, waitForJob } from './server';

// Several real service processes (`npm start`) on one fresh PostgreSQL schema, each with its own data
// directory and port: what the multi-instance tests start, query and stop.

export type MemberName = 'A' | 'B' | 'C';

/** Leases short enough that a test waits a few seconds for a takeover, not a minute. */
export const SHORT_LEASES = { SLUICE_LEASE_MS: '3000', SLUICE_HEARTBEAT_INTERVAL_MS: '500' };

/** An instance that serves the API and runs no job. */
export const API_ONLY = { SLUICE_RUN_JOBS: 'false' };

/** Settings of every instance (`all`) and of some of them. */
export type ClusterEnv = Partial<Record<MemberName | 'all', Record<string, string>>>;

/** What GET /health reports. */
export interface Health {
  status: string;
  engine: string;
  instance: string;
  runsJobs: boolean;
  activeJobs: number;
}

export interface Member {
  name: MemberName;
  process: ServerProcess;
  /** The instance id its /health reports. */
  id: string;
  /** Sends the workspace `default` key (the one the first instance created). */
  client: GraphQLClient;
  url: string;
  dataDir: string;
}

/** How many rows of a dataset PostgreSQL holds: visible ones, distinct values of a column among them, and all stored (hidden too). */
export interface StoredRows {
  visible: number;
  distinct: number;
  stored: number;
}

export interface Cluster extends Record<MemberName, Member> {
  schema: string;
  apiKey: string | null;
  members: Member[];
  /** The member whose instance id this is (a job's `instance`, say). */
  byInstance(id: string | null | undefined): Member;
  /** Runs SQL on the cluster's schema, on a connection of the test's own. */
  sql<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<R[]>;
  storedRows(dataset: string, columnIndex?: number): Promise<StoredRows>;
  /** The members' last log lines and stderr, for a failure message. */
  diagnostics(): string;
  stop(): Promise<void>;
}

export async function health(member: { url: string }): Promise<Health> {
  return (await (await fetch(healthUrl(member))).json()) as Health;
}

async function startMember(name: MemberName, schema: string, env: ClusterEnv, apiKey?: string | null): Promise<Member> {
  const dataDir = await mkdtemp(join(tmpdir(), `sluice-${name}-`));
  const settings = { SLUICE_DATABASE_URL: TEST_DATABASE_URL, SLUICE_DATABASE_SCHEMA: schema, ...env.all, ...env[name] };
  const process = await startServerProcess(dataDir, settings, { captureStderr: true });
  const { instance } = await health(process);
  return { name, process, id: instance, client: new GraphQLClient(process.url, apiKey === undefined ? process.apiKey : apiKey), url: process.url, dataDir };
}

const tail = (lines: string[], n = 40) => lines.slice(-n).map((line) => (line.length > 500 ? `${line.slice(0, 500)}…` : line));

function describeMember(member: Member): string {
  const { stdout, stderr } = member.process.output;
  const state = member.process.child.exitCode ?? member.process.child.signalCode ?? 'running';
  return [`--- ${member.name} (instance ${member.id}, pid ${member.process.pid}, ${state}) stdout:`, ...tail(stdout), '--- stderr:', ...tail(stderr)].join('\n');
}

/** The SQL counting a dataset table's rows: visible ones are past the REPLACE boundary and outside every hidden range. */
function storedRowsSql(datasetId: number, column: string): string {
  return `SELECT count(*)::int AS stored, count(*) FILTER (WHERE visible)::int AS visible, count(DISTINCT ${column}) FILTER (WHERE visible)::int AS distinct
    FROM (SELECT r.${column}, r._row >= d.visible_from_row AND NOT EXISTS (
        SELECT 1 FROM dataset_hidden_ranges h WHERE h.dataset_id = d.id AND r._row BETWEEN h.from_row AND COALESCE(h.to_row, 9223372036854775807)) AS visible
      FROM ${rowsTable(datasetId)} r, datasets d WHERE d.id = ${datasetId}) x`;
}

const live = new Set<Cluster>();

// A test that timed out leaves its cluster running: stopped here.
afterEach(async () => {
  for (const cluster of live) await cluster.stop();
});

/** Starts A (it migrates the schema and creates the key), then B and C beside it. */
export async function startCluster(env: ClusterEnv = {}): Promise<Cluster> {
  const schema = freshSchemaName();
  const members: Member[] = [];
  let db: pg.Client | null = null;
  const cluster: Cluster = {
    schema,
    apiKey: null,
    members,
    ...({} as Record<MemberName, Member>),
    byInstance(id) {
      const member = members.find((m) => m.id === id);
      if (!member) throw new Error(`no member runs as instance ${id}`);
      return member;
    },
    async sql(text, params) {
      if (!db) {
        db = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
        await db.connect();
      }
      return (await db.query(text, params)).rows;
    },
    async storedRows(dataset, columnIndex = 0) {
      const [{ id }] = await cluster.sql<{ id: number }>('SELECT id FROM datasets WHERE name = $1', [dataset]);
      const [counts] = await cluster.sql<StoredRows>(storedRowsSql(id, `c${columnIndex}`));
      return counts;
    },
    diagnostics: () => members.map(describeMember).join('\n'),
    async stop() {
      live.delete(cluster);
      await Promise.all(members.map((member) => member.process.kill('SIGKILL')));
      await cluster.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE ANY ($1)', [members.map((m) => `sluice/%/${m.id}`)]).catch(() => {});
      await (db as pg.Client | null)?.end().catch(() => {});
      await dropSchema(schema);
      await Promise.all(members.map((member) => rm(member.dataDir, { recursive: true, force: true })));
    },
  };
  live.add(cluster);
  try {
    const first = await startMember('A', schema, env);
    cluster.apiKey = first.process.apiKey;
    members.push(first, ...(await Promise.all((['B', 'C'] as const).map((name) => startMember(name, schema, env, cluster.apiKey)))));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  for (const member of members) cluster[member.name] = member;
  return cluster;
}

/** An error with the members' output appended. */
function withDiagnostics(error: unknown, cluster: Cluster): unknown {
  if (error instanceof Error) error.message += `\n\n${cluster.diagnostics()}`;
  return error;
}

/** A test on a cluster of its own, stopped (processes killed, schema dropped) whatever happens; a failure carries the processes' output. */
export function clusterTest(name: string, env: ClusterEnv, body: (cluster: Cluster) => Promise<void>, timeoutMs = 120_000): void {
  it(
    name,
    async () => {
      const cluster = await startCluster(env);
      try {
        await body(cluster);
      } catch (error) {
        throw withDiagnostics(error, cluster);
      } finally {
        await cluster.stop();
      }
    },
    timeoutMs,
  );
}

/** Waits until the job runs with at least `rows` rows processed (and fails if it ended first). */
export async function waitUntilProcessed(client: GraphQLClient, id: string, rows: number, timeoutMs = 60_000): Promise<JobFieldsFragment> {
  const job = await waitForJob(client, id, (j) => j.status !== 'PENDING' && j.status !== 'RUNNING' ? true : j.progress.processedRows >= rows, timeoutMs);
  if (job.status !== 'RUNNING') throw new Error(`job ${id} ended (${job.status}) before ${rows} rows were processed`);
  return job;
}

/** Waits until the process has exited; its exit code. */
export async function exitOf(member: Member, what: string, timeoutMs = 30_000): Promise<number | null> {
  await until(async () => member.process.child.exitCode !== null || member.process.child.signalCode !== null, Boolean, what, timeoutMs);
  return member.process.exited;
}
