import type { JobError } from '../jobs/model';
import type { IngestTask } from './pipeline';

/** What the main thread hands an ingest worker. */
export interface WorkerData {
  task: IngestTask;
  dbPath: string;
  busyTimeoutMs: number;
}

export type WorkerCommand = { type: 'cancel' };

/** What an ingest worker tells the main thread; `progress` follows every commit. */
export type WorkerReport =
  | { type: 'progress' }
  | { type: 'finished' }
  | { type: 'cancelled' }
  | { type: 'failed'; error: JobError }
  | { type: 'crashed'; message: string };
