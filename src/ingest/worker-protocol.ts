import type { JobError } from '../jobs/model';
import type { IngestTask } from './pipeline';

/** What the main thread hands an ingest worker. */
export interface WorkerData {
  task: IngestTask;
  dbPath: string;
  busyTimeoutMs: number;
  /** How often the worker says it is alive while it has nothing else to report. */
  aliveIntervalMs: number;
}

export type WorkerCommand = { type: 'cancel' };

/** What an ingest worker tells the main thread; `progress` follows every commit. */
export type WorkerReport =
  | { type: 'alive' }
  | { type: 'progress' }
  | { type: 'finished' }
  | { type: 'cancelled' }
  | { type: 'failed'; error: JobError }
  | { type: 'crashed'; message: string };
