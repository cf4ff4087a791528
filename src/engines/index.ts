import { join } from 'node:path';
import type { Config } from '../config';
import type { Engine, WorkerEngine, WorkerEngineSpec } from '../ports/engine';
import { isPostgresWorkerSpec, openPostgresEngine, openPostgresWorkerEngine } from './postgres';
import { isSqliteWorkerSpec, openSqliteEngine, openSqliteWorkerEngine } from './sqlite';

export type EngineConfig = Pick<Config, 'dataDir' | 'sqliteBusyTimeoutMs' | 'leaseMs' | 'databaseUrl' | 'databaseSchema' | 'databasePoolSize'>;

/**
 * The one place that picks the engine from the configuration: PostgreSQL when a database URL is
 * given (any number of instances serve it together), else SQLite in the data directory, the embedded default.
 */
export function openEngine(config: EngineConfig): Engine {
  if (config.databaseUrl) {
    return openPostgresEngine({
      location: { url: config.databaseUrl, schema: config.databaseSchema },
      poolSize: config.databasePoolSize,
      staleMs: config.leaseMs,
      scratchDir: join(config.dataDir, 'scratch'),
    });
  }
  return openSqliteEngine({ dataDir: config.dataDir, busyTimeoutMs: config.sqliteBusyTimeoutMs, staleMs: config.leaseMs });
}

/** The engine as a worker thread opens it, from what the main thread's engine handed it. */
export function openWorkerEngine(spec: WorkerEngineSpec): WorkerEngine {
  if (isSqliteWorkerSpec(spec)) return openSqliteWorkerEngine(spec);
  if (isPostgresWorkerSpec(spec)) return openPostgresWorkerEngine(spec);
  throw new Error(`unknown engine "${spec.engine}"`);
}
