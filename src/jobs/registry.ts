import { randomUUID } from 'node:crypto';
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
   * already used in the workspace, creates nothing and returns the earlier job instead. `admit` may
   * throw to refuse a new job (a workspace limit); it runs in the same transaction as the creation.
   */
  create(job: Omit<NewJob, 'now' | 'datasetId'>, dataset: { name: string; columns: DatasetColumn[] | null }, admit: () => void = () => {}): { job: Job; created: boolean } {
    const outcome = this.transaction(() => {
      const earlier = job.idempotencyKey === null ? null : this.jobs.findByIdempotencyKey(job.workspace, job.idempotencyKey);
      if (earlier) return { job: earlier, created: false };
      admit();
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
    const moved = this.transaction(() => this.moveWithin(job, to, patch, alongside));
    if (moved) this.announce(job, moved);
    return moved; // null: another change won the race; the caller reloads
  }

  /** The transition itself, inside the caller's transaction. Out of RUNNING, only the holder of the lease `job` carries may move it. */
  private moveWithin(job: Job, to: JobStatus, patch: TransitionPatch, alongside?: () => void): Job | null {
    if (!canTransition(job.status, to)) throw new Error(`job ${job.id}: ${job.status} -> ${to} is not a transition`);
    const heldWith = job.status === 'RUNNING' ? job.lease?.token : undefined;
    if (!this.jobs.transition(job.num, job.status, to, patch, this.now(), heldWith)) return null;
    alongside?.();
    const updated = this.jobs.getByNum(job.num)!;
    // Webhook outbox rows commit with the transition they announce: a crash after this commit still delivers.
    this.outbox.transitioned(updated, this.now(), job.startedAt !== null);
    return updated;
  }

  private announce(before: Job, after: Job): void {
    this.log.info({ jobId: after.id, from: before.status, to: after.status, stage: after.stage, error: after.error ?? undefined }, 'job transition');
    this.bus.publish({ job: after, kind: 'transition' });
  }

  /**
   * Claims the oldest runnable job (arrival order, one job per dataset at a time) for `owner` with a
   * fresh lease token. Finding and claiming are one write transaction, so no two claims get the same job.
   */
  claimNext(owner: string, leaseMs: number): Job | null {
    const claim = this.transaction(() => {
      const job = this.jobs.nextRunnable();
      if (!job) return null;
      const now = this.now();
      const lease = { owner, token: randomUUID(), expiresAt: now + leaseMs };
      return { job, claimed: this.moveWithin(job, 'RUNNING', { stage: 'starting', startedAt: now, attemptsIncrement: 1, lease }) };
    });
    if (claim?.claimed) this.announce(claim.job, claim.claimed);
    return claim?.claimed ?? null;
  }

  /** Publishes progress that an ingest worker has committed. */
  progressed(num: number): Job | null {
    const job = this.jobs.getByNum(num);
    // A late report after the end publishes nothing: a terminal job never changes again.
    if (job?.status === 'RUNNING') this.bus.publish({ job, kind: 'progress' });
    return job;
  }

  /** The heartbeat of an attempt: extends its lease and advances updatedAt; false when the attempt has lost its lease. */
  renewLease(job: Job, leaseMs: number): boolean {
    const now = this.now();
    if (!this.jobs.renewLease(job.num, job.lease!.token, now + leaseMs, now)) return false;
    this.progressed(job.num);
    return true;
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

  /**
   * Ends an attempt that lost its lease (its process died, or its worker hung): the job goes back to
   * the queue and resumes from its checkpoint. An attempt that advanced the checkpoint is no crash of
   * the job, however many there are; one that did not counts, and `maxAttempts` of those in a row
   * (a file that kills its worker, say) fail the job with INTERRUPTED.
   */
  interrupt(job: Job, reason: string, maxAttempts: number): Job | null {
    const progressed = job.progress.processedRows > (job.attempt?.rows ?? 0);
    const fruitlessAttempts = progressed ? 0 : job.fruitlessAttempts + 1;
    if (fruitlessAttempts >= maxAttempts) {
      const message = `the job was interrupted ${fruitlessAttempts} times in a row without progress, the last time because ${reason}; it is not retried again`;
      return this.fail(job, { code: 'INTERRUPTED', message });
    }
    this.log.warn({ jobId: job.id, reason, attempts: job.attempts, fruitlessAttempts, resumesAt: job.checkpoint?.nextRow }, 'job interrupted; queued again');
    // Without a checkpoint the attempt wrote no rows, but it may have noted things or, before
    // checkpoints existed, written rows: the next attempt starts from a clean slate.
    return this.move(job, 'PENDING', { stage: 'queued', fruitlessAttempts }, job.checkpoint ? undefined : () => this.startOver(job));
  }

  private startOver(job: Job): void {
    this.datasets.abandonJobRows(job.datasetId, job.num);
    this.jobs.resetProgress(job.num);
  }

  /** Hands a job back to the queue at a graceful stop, to resume from its checkpoint; the attempt does not count. */
  release(job: Job): Job | null {
    return this.move(job, 'PENDING', { stage: 'queued', attemptsIncrement: -1 });
  }

  withVoidLease(liveOwner: string): Job[] {
    return this.jobs.withVoidLease(liveOwner, this.now());
  }
}
