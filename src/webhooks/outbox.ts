import { randomUUID } from 'node:crypto';
import type { SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { Job, JobStatus } from '../jobs/model';
import type { SqliteWebhookStore } from './sqlite-webhook-store';

export const JOB_EVENTS: Partial<Record<JobStatus, string>> = {
  COMPLETED: 'job.completed',
  FAILED: 'job.failed',
  CANCELLED: 'job.cancelled',
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The event body: `{ type, timestamp, data }`, small (a few hundred bytes) whatever the job. */
export function eventBody(event: string, job: Job, dataset: string, now: number): string {
  return JSON.stringify({
    type: event,
    timestamp: iso(now),
    data: {
      id: job.id,
      status: job.status,
      dataset,
      processedRows: job.progress.processedRows,
      rowsWritten: job.progress.rowsWritten,
      rowsRejected: job.progress.rowsRejected,
      error: job.error && { code: job.error.code, message: job.error.message.slice(0, 1000) },
      createdAt: iso(job.createdAt),
      startedAt: iso(job.startedAt),
      completedAt: iso(job.completedAt),
    },
  });
}

/** Writes a job's webhook deliveries into the outbox; called inside the transaction that ends the job. */
export class WebhookOutbox {
  constructor(
    private readonly store: SqliteWebhookStore,
    private readonly datasets: SqliteDatasetStore,
  ) {}

  jobEnded(job: Job, now: number): void {
    const event = JOB_EVENTS[job.status];
    if (!event || !job.options.webhookUrl) return;
    const dataset = this.datasets.getById(job.datasetId)!.name;
    this.store.enqueue(
      { id: `msg_${randomUUID()}`, jobNum: job.num, workspace: job.workspace, url: job.options.webhookUrl, event, payload: eventBody(event, job, dataset, now) },
      now,
    );
  }
}
