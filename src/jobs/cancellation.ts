import { delay } from '../delay';
import { isTerminal, type Job } from './model';
import type { JobRegistry } from './registry';
import type { JobRunner } from './runner';

const POLL_MS = 100;
/** How long a cancel waits, once the job's worker stopped, for its end to be committed. */
const CONCLUDE_WAIT_MS = 5_000;

export interface CancellationDeps {
  registry: JobRegistry;
  runner: JobRunner;
  /** Whether an instance serves the storage now. */
  isLive: (instance: string) => Promise<boolean>;
  /** How long a running job gets to stop at a batch boundary before it is stopped hard. */
  cancelTimeoutMs: number;
  /** How often instances look at their jobs (a lost cancel notice is seen at the next look). */
  heartbeatIntervalMs: number;
}

/**
 * Cancels jobs, from any instance. A PENDING job ends at once. A RUNNING job stops at its next batch
 * boundary, or is stopped hard after the cancel timeout: by this process when it runs the job, else
 * by the live instance that does, which is asked through the store and the event bus while this one
 * waits. A job whose instance is dead, or did not end it in time, is cancelled here directly: its
 * attempt's next write finds the lease gone and rolls back.
 */
export class JobCanceller {
  constructor(private readonly deps: CancellationDeps) {}

  /** Resolves with the job as it ended (or as it is, when it ended otherwise meanwhile). */
  async cancel(job: Job): Promise<Job | null> {
    if (job.status === 'PENDING') return this.cancelQueued(job);
    if (job.status !== 'RUNNING') return job;
    const local = this.deps.runner.attemptOf(job);
    if (local) {
      await local.cancel(this.deps.cancelTimeoutMs);
      // Stopped; its end is committed as its worker's report or exit is concluded.
      return (await this.endOf(job.id, CONCLUDE_WAIT_MS)) ?? this.deps.registry.get(job.id);
    }
    if ((await this.deps.isLive(job.lease!.owner)) && (await this.deps.registry.requestCancel(job))) {
      const ended = await this.endOf(job.id, this.deps.cancelTimeoutMs + 2 * this.deps.heartbeatIntervalMs + 1000);
      if (ended) return ended;
    }
    return this.cancelDirectly(job.id);
  }

  private async cancelQueued(job: Job): Promise<Job | null> {
    const cancelled = await this.deps.registry.cancel(job);
    if (cancelled) return this.settled(cancelled);
    const current = await this.deps.registry.get(job.id);
    return current?.status === 'RUNNING' ? this.cancel(current) : current; // it started meanwhile
  }

  /** The job once it ended, polled until `timeoutMs`; null if it still runs then. */
  private async endOf(id: string, timeoutMs: number): Promise<Job | null> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await delay(POLL_MS)) {
      const current = await this.deps.registry.get(id);
      if (!current || isTerminal(current.status)) return current;
    }
    return null;
  }

  private async cancelDirectly(id: string): Promise<Job | null> {
    const current = await this.deps.registry.get(id);
    if (!current || isTerminal(current.status)) return current;
    if (current.status === 'PENDING') return this.cancelQueued(current);
    const cancelled = await this.deps.registry.cancel(current);
    return cancelled ? this.settled(cancelled) : this.deps.registry.get(id);
  }

  private settled(job: Job): Job {
    void this.deps.runner.settled(job);
    return job;
  }
}
