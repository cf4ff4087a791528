import { randomUUID } from 'node:crypto';
import type { SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { Job, JobStatus } from '../jobs/model';
import type { SqliteWebhookStore } from './sqlite-webhook-store';

/** The event a transition into a status announces. */
const EVENT_OF: Partial<Record<JobStatus, string>> = {
  RUNNING: 'job.started',
  COMPLETED: 'job.completed',
  FAILED: 'job.failed',
  CANCELLED: 'job.cancelled',
};

export const WEBHOOK_EVENTS = ['job.started', 'job.completed', 'job.failed', 'job.cancelled'] as const;
/** The job's end: what a per-job webhookUrl receives, and what an endpoint gets when it names no events. */
export const JOB_END_EVENTS: readonly string[] = ['job.completed', 'job.failed', 'job.cancelled'];

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

/**
 * Writes a job's webhook deliveries into the outbox, inside the transaction of the transition they
 * announce: to the job's own webhookUrl (its end) and to the workspace's endpoints that asked for the event.
 */
export class WebhookOutbox {
  constructor(
    private readonly store: SqliteWebhookStore,
    private readonly datasets: SqliteDatasetStore,
  ) {}

  /** `startedBefore`: the job had started before this transition (a resumed attempt starts no job: job.started is sent once). */
  transitioned(job: Job, now: number, startedBefore: boolean): void {
    const event = EVENT_OF[job.status];
    if (!event || (event === 'job.started' && startedBefore)) return;
    const targets = this.store
      .endpoints(job.workspace)
      .filter((endpoint) => endpoint.disabledAt === null && endpoint.events.includes(event))
      .map((endpoint) => ({ endpointId: endpoint.id as string | null, url: endpoint.url }));
    if (job.options.webhookUrl && JOB_END_EVENTS.includes(event)) targets.push({ endpointId: null, url: job.options.webhookUrl });
    if (targets.length === 0) return;
    const payload = eventBody(event, job, this.datasets.getById(job.datasetId)!.name, now);
    for (const target of targets) {
      this.store.enqueue({ id: `msg_${randomUUID()}`, jobNum: job.num, workspace: job.workspace, ...target, event, payload }, now);
    }
  }
}
