import type { FileFormat, JobOptions } from '../jobs/model';
import type { BatchResume } from './batch';
import type { FileLimits } from './source';

export interface IngestTask {
  jobNum: number;
  datasetId: number;
  /** A local file with the upload's bytes. */
  path: string;
  /** The upload as accepted, to check the local file against before reading it. */
  file: { size: number; sha256: string };
  format: FileFormat;
  options: JobOptions;
  batchRows: number;
  progressIntervalMs: number;
  inferSampleRows: number;
  limits: FileLimits;
  /** The attempt's lease: every commit is fenced by it and extends it by `leaseMs`. */
  leaseToken: string;
  leaseMs: number;
  /** Where an earlier attempt of the job left off, with its counters; null for a fresh start. */
  resume: BatchResume | null;
}

export type IngestOutcome = 'finished' | 'cancelled' | 'paused';

/** How the pipeline talks to whoever runs it: a report after every commit, and whether to stop early. */
export interface IngestControl {
  committed(): void;
  /** `cancel`: stop at the next batch boundary; `pause`: commit a checkpoint at the next burst and stop. */
  stopRequested(): 'cancel' | 'pause' | null;
}
