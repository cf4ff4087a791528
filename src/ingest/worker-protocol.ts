import type { JobError } from '../jobs/model';
import type { WorkerEngineSpec } from '../ports/engine';
import type { IngestTask } from './task';

/** What the main thread hands an ingest thread when it starts it; the jobs come later, by message. */
export interface WorkerData {
  /** How the thread opens the engine on a connection of its own, for each attempt it runs. */
  engine: WorkerEngineSpec;
  /** How often the thread says it is alive while it runs an attempt and has nothing else to report. */
  aliveIntervalMs: number;
}

/** `cancel`: stop at the next batch boundary; `pause`: commit a checkpoint at the next burst and stop (graceful shutdown). */
export type StopCommand = 'cancel' | 'pause';

/**
 * To an ingest thread: `run` an attempt (one at a time), or stop the attempt named by its lease
 * token; a stop that comes after that attempt ended on this thread is dropped, so it never reaches the next job.
 */
export type WorkerCommand = { type: 'run'; task: IngestTask } | { type: StopCommand; attempt: string };

/**
 * What an ingest thread tells the main thread of the attempt it runs: `progress` follows every commit;
 * `paused` means a checkpoint was committed on request; `lost` that a commit found the lease gone
 * (nothing was written); `disconnected` that the connection to the storage was lost (the open batch
 * rolled back with it).
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

/**
 * Everything an ingest thread posts: its attempts' reports, `ready` once its code is loaded (it can
 * take jobs), and `idle` once an attempt is over on it, its sink and engine closed (it takes the next job).
 */
export type ThreadMessage = WorkerReport | { type: 'ready' } | { type: 'idle' };
