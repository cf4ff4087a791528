import { randomUUID } from 'node:crypto';
import type { Job, JobStatus } from '../jobs/model';
import type { NewDelivery, WebhookEndpoint } from './model';

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
      dryRun: job.options.dryRun,
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

/** What the outbox needs to know of a transition: the job after it, whether it had started before, and where events may go. */
export interface Transitioned {
  job: Job;
  startedBefore: boolean;
  datasetName: string;
  /** The workspace's endpoints. */
  endpoints: readonly WebhookEndpoint[];
  now: number;
}

/**
 * The webhook deliveries a transition writes into the outbox, in the same atomic step as the
 * transition: to the job's own webhookUrl (its end) and to the workspace's endpoints that asked for
 * the event. A resumed attempt starts no job: job.started is sent once.
 */
export function outboxDeliveries({ job, startedBefore, datasetName, endpoints, now }: Transitioned): NewDelivery[] {
  const event = EVENT_OF[job.status];
  if (!event || (event === 'job.started' && startedBefore)) return [];
  const targets = endpoints
    .filter((endpoint) => endpoint.workspace === job.workspace && endpoint.disabledAt === null && endpoint.events.includes(event))
    .map((endpoint) => ({ endpointId: endpoint.id as string | null, url: endpoint.url }));
  if (job.options.webhookUrl && JOB_END_EVENTS.includes(event)) targets.push({ endpointId: null, url: job.options.webhookUrl });
  if (targets.length === 0) return [];
  const payload = eventBody(event, job, datasetName, now);
  return targets.map((target) => ({ id: `msg_${randomUUID()}`, jobNum: job.num, workspace: job.workspace, ...target, event, payload }));
}
