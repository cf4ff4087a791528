import type { Config } from '../config';
import type { Engine, WorkerEngine, WorkerEngineSpec } from '../ports/engine';
import { isSqliteWorkerSpec, openSqliteEngine, openSqliteWorkerEngine } from './sqlite';

/** The one place that picks the engine from the configuration: SQLite in the data directory, the embedded default. */
export function openEngine(config: Pick<Config, 'dataDir' | 'sqliteBusyTimeoutMs' | 'leaseMs'>): Engine {
  return openSqliteEngine({ dataDir: config.dataDir, busyTimeoutMs: config.sqliteBusyTimeoutMs, staleMs: config.leaseMs });
}

/** The engine as a worker thread opens it, from what the main thread's engine handed it. */
export function openWorkerEngine(spec: WorkerEngineSpec): WorkerEngine {
  if (isSqliteWorkerSpec(spec)) return openSqliteWorkerEngine(spec);
  throw new Error(`unknown engine "${spec.engine}"`);
}
