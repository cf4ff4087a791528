import type { Logger } from 'pino';
import type { EventBus } from '../ports/event-bus';
import type { DatasetEffect, JobStore, NewJob, NewJobDataset, TransitionPatch, WorkspaceLoad } from '../ports/job-store';
import { canTransition, type Job, type JobError, type JobStatus } from './model';

/**
 * The one writer of job state: every transition is checked against the state machine, committed
 * (with the dataset change it implies and its webhook deliveries, in the same atomic step of the
 * store) and then published.
 */
export class JobRegistry {
  constructor(
    private readonly jobs: JobStore,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Promise<Job | null> {
    return this.jobs.get(id);
  }

  /**
   * Creates a job, and its dataset when this is the dataset's first job. With an idempotency key
   * already used in the workspace, creates nothing and returns the earlier job instead. `admit` may
   * throw to refuse a new job (a workspace limit); it sees the workspace's load in the same atomic step.
   */
  async create(job: Omit<NewJob, 'now'>, dataset: NewJobDataset, admit: (load: WorkspaceLoad) => void = () => {}): Promise<{ job: Job; created: boolean }> {
    const outcome = await this.jobs.create({ ...job, now: this.now() }, dataset, admit);
    if (outcome.created) {
      this.log.info({ jobId: outcome.job.id, dataset: dataset.name, file: outcome.job.file }, 'job created');
      await this.bus.publish({ job: outcome.job, kind: 'created' });
    }
    return outcome;
  }

  /** Null: another change won the race; the caller reloads. */
  private async move(job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect = null): Promise<Job | null> {
    if (!canTransition(job.status, to)) throw new Error(`job ${job.id}: ${job.status} -> ${to} is not a transition`);
    const moved = await this.jobs.transition(job, to, patch, effect, this.now());
    if (moved) await this.announce(job, moved);
    return moved;
  }

  private async announce(before: Job, after: Job): Promise<void> {
    this.log.info({ jobId: after.id, from: before.status, to: after.status, stage: after.stage, error: after.error ?? undefined }, 'job transition');
    await this.bus.publish({ job: after, kind: 'transition' });
  }

  /** Claims the oldest runnable job (arrival order, one job per dataset at a time) for `owner` with a fresh lease. */
  async claimNext(owner: string, leaseMs: number): Promise<Job | null> {
    const claim = await this.jobs.claimNext({ owner, leaseMs, now: this.now() });
    if (!claim) return null;
    await this.announce(claim.before, claim.after);
    return claim.after;
  }

  /** Publishes progress that an ingest worker has committed. */
  async progressed(num: number): Promise<Job | null> {
    const job = await this.jobs.getByNum(num);
    // A late report after the end publishes nothing: a terminal job never changes again.
    if (job?.status === 'RUNNING') await this.bus.publish({ job, kind: 'progress' });
    return job;
  }

  /** Asks the instance running `job` to cancel it (it hears it on the event bus, or sees it at its next heartbeat); false when the job no longer runs under that lease. */
  async requestCancel(job: Job): Promise<boolean> {
    const flagged = await this.jobs.requestCancel(job.num, job.lease!.token);
    if (flagged) await this.bus.publish({ job: flagged, kind: 'cancelRequested' });
    return flagged !== null;
  }

  /** The heartbeat of an attempt: extends its lease and advances updatedAt; false when the attempt has lost its lease. */
  async renewLease(job: Job, leaseMs: number): Promise<boolean> {
    if (!(await this.jobs.renewLease(job.num, job.lease!.token, leaseMs, this.now()))) return false;
    await this.progressed(job.num);
    return true;
  }

  complete(job: Job): Promise<Job | null> {
    return this.move(job, 'COMPLETED', { stage: 'done', completedAt: this.now() }, 'publish');
  }

  fail(job: Job, error: JobError): Promise<Job | null> {
    return this.move(job, 'FAILED', { stage: 'failed', completedAt: this.now(), error }, 'abandon');
  }

  cancel(job: Job, message = 'cancelled by request'): Promise<Job | null> {
    return this.move(job, 'CANCELLED', { stage: 'cancelled', completedAt: this.now(), error: { code: 'CANCELLED', message } }, 'abandon');
  }

  /**
   * Ends an attempt that lost its lease (its process died, or its worker hung): the job goes back to
   * the queue and resumes from its checkpoint. An attempt that advanced the checkpoint is no crash of
   * the job, however many there are; one that did not counts, and `maxAttempts` of those in a row
   * (a file that kills its worker, say) fail the job with INTERRUPTED.
   */
  interrupt(job: Job, reason: string, maxAttempts: number): Promise<Job | null> {
    const progressed = job.progress.processedRows > (job.attempt?.rows ?? 0);
    const fruitlessAttempts = progressed ? 0 : job.fruitlessAttempts + 1;
    if (fruitlessAttempts >= maxAttempts) {
      const message = `the job was interrupted ${fruitlessAttempts} times in a row without progress, the last time because ${reason}; it is not retried again`;
      return this.fail(job, { code: 'INTERRUPTED', message });
    }
    this.log.warn({ jobId: job.id, reason, attempts: job.attempts, fruitlessAttempts, resumesAt: job.checkpoint?.nextRow }, 'job interrupted; queued again');
    // Without a checkpoint the attempt wrote no rows, but it may have noted things or, before
    // checkpoints existed, written rows: the next attempt starts from a clean slate.
    return this.move(job, 'PENDING', { stage: 'queued', fruitlessAttempts }, job.checkpoint ? null : 'startOver');
  }

  /** Hands a job back to the queue at a graceful stop, to resume from its checkpoint; the attempt does not count. */
  release(job: Job): Promise<Job | null> {
    return this.move(job, 'PENDING', { stage: 'queued', attemptsIncrement: -1 });
  }

  withVoidLease(liveOwner: string): Promise<Job[]> {
    return this.jobs.withVoidLease(liveOwner, this.now());
  }
}
