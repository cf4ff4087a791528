import { join } from 'node:path';
import type { Engine, WorkerEngine, WorkerEngineSpec } from '../../ports/engine';
import type { Attempt, RowSink } from '../../ports/row-sink';
import { SpoolBlobStore } from './blob-store';
import { openDatabase } from './database';
import { SqliteDatasetStore } from './dataset-store';
import { InProcessEventBus } from './event-bus';
import { InstanceLock } from './instance-lock';
import { SqliteJobStore } from './job-store';
import { SqliteApiKeyStore } from './key-store';
import { SqliteRowSink } from './row-sink';
import { asStorageFaults } from './storage-faults';
import { SqliteWebhookStore } from './webhook-store';

export interface SqliteSettings {
  dataDir: string;
  busyTimeoutMs: number;
  /** How long the data directory's holder may go without renewing before another process may take it. */
  staleMs: number;
}

export interface SqliteWorkerSpec extends WorkerEngineSpec {
  engine: 'sqlite';
  dbPath: string;
  busyTimeoutMs: number;
}

export function isSqliteWorkerSpec(spec: WorkerEngineSpec): spec is SqliteWorkerSpec {
  return spec.engine === 'sqlite';
}

/** The embedded engine: one SQLite database (WAL) and the spool folder in the data directory, served by one process. */
export function openSqliteEngine({ dataDir, busyTimeoutMs, staleMs }: SqliteSettings): Engine {
  const dbPath = join(dataDir, 'sluice.db');
  const db = openDatabase(dbPath, { busyTimeoutMs, migrate: true });
  const datasets = new SqliteDatasetStore(db);
  const webhooks = new SqliteWebhookStore(db);
  const workerSpec: SqliteWorkerSpec = { engine: 'sqlite', dbPath, busyTimeoutMs };
  return {
    name: 'sqlite',
    jobs: new SqliteJobStore(db, datasets, webhooks),
    datasets,
    webhooks,
    keys: new SqliteApiKeyStore(db),
    blobs: new SpoolBlobStore(join(dataDir, 'spool')),
    events: new InProcessEventBus(),
    coordination: new InstanceLock(db, staleMs),
    workerSpec,
    // The database was opened and migrated above: SQLite does that synchronously, and a CLI or a
    // second process must see a migrated file before it reads.
    async open() {},
    async close() {
      db.close();
    },
  };
}

/** A worker thread's own connection to the database, without migrating (the main thread did). */
export function openSqliteWorkerEngine({ dbPath, busyTimeoutMs }: SqliteWorkerSpec): WorkerEngine {
  const db = asStorageFaults(() => openDatabase(dbPath, { busyTimeoutMs, migrate: false }));
  return {
    async openSink(attempt: Attempt): Promise<RowSink> {
      return new SqliteRowSink(db, attempt);
    },
    async close() {
      db.close();
    },
  };
}
