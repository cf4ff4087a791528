import type { Config } from '../config';
import type { IngestTask } from '../ingest/task';
import type { Job } from './model';

/** What an attempt's worker needs of a claimed job: its file (a local copy at `path`), options and limits, and the lease that fences its writes. */
export function ingestTask(job: Job, path: string, config: Config): IngestTask {
  return {
    jobNum: job.num,
    datasetId: job.datasetId,
    path,
    file: { size: job.file.size, sha256: job.file.sha256 },
    format: job.file.format,
    options: job.options,
    batchRows: config.batchRows,
    progressIntervalMs: config.progressIntervalMs,
    inferSampleRows: config.inferSampleRows,
    limits: { maxRecordBytes: config.maxRecordBytes, maxColumns: config.maxColumns, zip: config.zipLimits, issues: config.issueLimits },
    leaseToken: job.lease!.token,
    leaseMs: config.leaseMs,
    resume: job.checkpoint && { checkpoint: job.checkpoint, counters: job.progress },
  };
}
