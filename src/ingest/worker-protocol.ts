import type { JobError } from '../jobs/model';
import type { WorkerEngineSpec } from '../ports/engine';
import type { IngestTask } from './task';

/** What the main thread hands an ingest worker. */
export interface WorkerData {
  task: IngestTask;
  /** How the worker opens the engine on a connection of its own. */
  engine: WorkerEngineSpec;
  /** How often the worker says it is alive while it has nothing else to report. */
  aliveIntervalMs: number;
}

/** `cancel`: stop at the next batch boundary; `pause`: commit a checkpoint at the next burst and stop (graceful shutdown). */
export type WorkerCommand = { type: 'cancel' } | { type: 'pause' };

/**
 * What an ingest worker tells the main thread: `progress` follows every commit; `paused` means a
 * checkpoint was committed on request; `lost` that a commit found the lease gone (nothing was written);
 * `disconnected` that the connection to the storage was lost (the open batch rolled back with it).
 */
export type WorkerReport =
  | { type: 'alive' }
  | { type: 'progress' }
  | { type: 'finished' }
  | { type: 'cancelled' }
  | { type: 'paused' }
  | { type: 'lost' }
  | { type: 'disconnected'; detail: string }
  | { type: 'failed'; error: JobError; /** For the log: what the storage said, when a storage fault ended the job. */ detail?: string }
  | { type: 'crashed'; message: string };
