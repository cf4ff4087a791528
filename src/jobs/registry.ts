import type { Logger } from 'pino';
import type { DatasetColumn } from '../datasets/columns';
import type { SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { EventBus } from '../events/bus';
import type { WebhookOutbox } from '../webhooks/outbox';
import { canTransition, type Job, type JobError, type JobStatus } from './model';
import type { JobStore, NewJob, TransitionPatch } from './store';

export type Transaction = <T>(work: () => T) => T;

/**
 * The one writer of job state: every transition is checked against the state machine, committed
 * (with the dataset change it implies, in the same transaction) and then published.
 */
export class JobRegistry {
  constructor(
    private readonly jobs: JobStore,
    private readonly datasets: SqliteDatasetStore,
    private readonly transaction: Transaction,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly outbox: WebhookOutbox,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Job | null {
    return this.jobs.get(id);
  }

  /**
   * Creates a job, and its dataset when this is the dataset's first job. With an idempotency key
   * already used in the workspace, creates nothing and returns the earlier job instead.
   */
  create(job: Omit<NewJob, 'now' | 'datasetId'>, dataset: { name: string; columns: DatasetColumn[] | null }): { job: Job; created: boolean } {
    const outcome = this.transaction(() => {
      const earlier = job.idempotencyKey === null ? null : this.jobs.findByIdempotencyKey(job.workspace, job.idempotencyKey);
      if (earlier) return { job: earlier, created: false };
      const now = this.now();
      const datasetId = (this.datasets.get(job.workspace, dataset.name) ?? this.datasets.create(job.workspace, dataset.name, dataset.columns, now)).id;
      return { job: this.jobs.insert({ ...job, datasetId, now }), created: true };
    });
    if (outcome.created) {
      this.log.info({ jobId: outcome.job.id, dataset: dataset.name, file: outcome.job.file }, 'job created');
      this.bus.publish({ job: outcome.job, kind: 'created' });
    }
    return outcome;
  }

  private move(job: Job, to: JobStatus, patch: TransitionPatch, alongside?: () => void): Job | null {
    if (!canTransition(job.status, to)) throw new Error(`job ${job.id}: ${job.status} -> ${to} is not a transition`);
    const moved = this.transaction(() => {
      if (!this.jobs.transition(job.num, job.status, to, patch, this.now())) return false;
      alongside?.();
      // Webhook outbox rows commit with the transition they announce: a crash after this commit still delivers.
      this.outbox.transitioned(this.jobs.getByNum(job.num)!, this.now());
      return true;
    });
    if (!moved) return null; // another change won the race; the caller reloads
    const updated = this.jobs.getByNum(job.num)!;
    this.log.info({ jobId: job.id, from: job.status, to, stage: updated.stage, error: updated.error ?? undefined }, 'job transition');
    this.bus.publish({ job: updated, kind: 'transition' });
    return updated;
  }

  /** Claims the oldest runnable job (arrival order, one job per dataset at a time). */
  claimNext(): Job | null {
    for (let job = this.jobs.nextRunnable(); job; job = this.jobs.nextRunnable()) {
      const started = this.move(job, 'RUNNING', { stage: 'starting', startedAt: this.now(), attemptsIncrement: 1 });
      if (started) return started;
    }
    return null;
  }

  /** Publishes progress that an ingest worker has committed. */
  progressed(num: number): Job | null {
    const job = this.jobs.getByNum(num);
    // A late report after the end publishes nothing: a terminal job never changes again.
    if (job?.status === 'RUNNING') this.bus.publish({ job, kind: 'progress' });
    return job;
  }

  heartbeat(num: number): void {
    this.jobs.touch(num, this.now());
    this.progressed(num);
  }

  complete(job: Job): Job | null {
    return this.move(job, 'COMPLETED', { stage: 'done', completedAt: this.now(), totalRows: job.progress.processedRows }, () =>
      this.datasets.commitJobRows(job.datasetId, job.num, job.options.mode, job.progress.rowsWritten, this.now()),
    );
  }

  fail(job: Job, error: JobError): Job | null {
    return this.move(job, 'FAILED', { stage: 'failed', completedAt: this.now(), error }, () => this.datasets.abandonJobRows(job.datasetId, job.num));
  }

  cancel(job: Job, message = 'cancelled by request'): Job | null {
    return this.move(job, 'CANCELLED', { stage: 'cancelled', completedAt: this.now(), error: { code: 'CANCELLED', message } }, () =>
      this.datasets.abandonJobRows(job.datasetId, job.num),
    );
  }

  /** Returns an interrupted job to the queue; its partial rows are abandoned and it starts over. */
  requeue(job: Job, reason: string): Job | null {
    this.log.warn({ jobId: job.id, reason }, 'job interrupted; queued again');
    return this.move(job, 'PENDING', { stage: 'queued' }, () => {
      this.datasets.abandonJobRows(job.datasetId, job.num);
      this.jobs.resetProgress(job.num);
    });
  }

  withStatus(status: JobStatus): Job[] {
    return this.jobs.withStatus(status);
  }
}
