import type { Engine, WorkerEngine, WorkerEngineSpec } from '../../ports/engine';
import type { Attempt, RowSink } from '../../ports/row-sink';
import { PgBlobStore } from './blob-store';
import { PgCoordination } from './coordination';
import { migrate, openClient, openPool, type PostgresLocation } from './database';
import { PgDatasetStore } from './dataset-store';
import { PgEventBus } from './event-bus';
import { PgJobStore } from './job-store';
import { PgApiKeyStore } from './key-store';
import { PgRowSink } from './row-sink';
import { PgWebhookStore } from './webhook-store';
import { newInstanceId } from '../shared/instance-id';

export interface PostgresSettings {
  location: PostgresLocation;
  /** Connections of the main thread's pool (each running job's worker opens one more, and the event bus one to listen). */
  poolSize: number;
  /** How long an instance may go without renewing its registration before its leases are void. */
  staleMs: number;
  /** Local folder where uploads are staged while they arrive and copied to be read by a job. */
  scratchDir: string;
}

export interface PostgresWorkerSpec extends WorkerEngineSpec {
  engine: 'postgres';
  location: PostgresLocation;
  /** The instance whose worker this is (it names the worker's connection). */
  instance: string;
}

export function isPostgresWorkerSpec(spec: WorkerEngineSpec): spec is PostgresWorkerSpec {
  return spec.engine === 'postgres';
}

/** Many instances on one PostgreSQL: rows by COPY, claims with SKIP LOCKED, events by LISTEN/NOTIFY, uploads in the database. */
export function openPostgresEngine({ location, poolSize, staleMs, scratchDir }: PostgresSettings): Engine {
  const instance = newInstanceId();
  const pool = openPool(location, poolSize, { role: 'pool', instance });
  const datasets = new PgDatasetStore(pool);
  const webhooks = new PgWebhookStore(pool);
  const events = new PgEventBus(location, instance);
  const workerSpec: PostgresWorkerSpec = { engine: 'postgres', location, instance };
  return {
    name: 'postgres',
    jobs: new PgJobStore(pool, datasets, webhooks, staleMs),
    datasets,
    webhooks,
    keys: new PgApiKeyStore(pool),
    blobs: new PgBlobStore(pool, scratchDir),
    events,
    coordination: new PgCoordination(pool, staleMs, instance),
    workerSpec,
    async open() {
      await migrate(location, instance);
      await events.open();
    },
    async close() {
      await events.close();
      await pool.end();
    },
  };
}

/** A worker thread's own connection to the database. */
export function openPostgresWorkerEngine({ location, instance }: PostgresWorkerSpec): WorkerEngine {
  const sinks: PgRowSink[] = [];
  return {
    async openSink(attempt: Attempt): Promise<RowSink> {
      const sink = new PgRowSink(await openClient(location, { role: 'ingest', instance }), attempt);
      sinks.push(sink);
      return sink;
    },
    async close() {
      for (const sink of sinks) await sink.close();
    },
  };
}
