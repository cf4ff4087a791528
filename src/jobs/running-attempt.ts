import type { Logger } from 'pino';
import { delay } from '../delay';
import type { AttemptThread } from '../ingest/worker-pool';
import type { WorkerReport } from '../ingest/worker-protocol';
import type { Job } from './model';

/** One attempt this process runs: the job as claimed (its lease token fences everything the attempt writes), the ingest thread running it, and what is known of both. */
export class RunningAttempt {
  readonly log: Logger;
  cancelRequested = false;
  /** Whether the worker has sent its final report (or failed), so that its exit needs no conclusion. */
  reported = false;
  /** Whether the attempt lost its lease: the job is someone else's now, and this attempt concludes nothing. */
  lost = false;
  /** What the attempt concludes with when it was stopped hard (its time limit); null: as a crash, which a requested cancel turns into CANCELLED. */
  stoppedAs: WorkerReport | null = null;
  /** When the worker last showed it is alive: a hung worker gets no heartbeat and shows as stalled. */
  lastSeen = Date.now();
  /** What the reaper left to do once the worker has exited: queue the job again (never beside its old worker). */
  afterExit: (() => Promise<void>) | null = null;
  workerExited = false;
  private retired = false;
  /** Whether the attempt's end is reported but not yet committed (the store refused; retried): it keeps its slot meanwhile. */
  concluding = false;
  /** Settles when the attempt is over on its thread: the thread went back to the pool, or exited. */
  readonly exited: Promise<void>;
  /** Settles when the attempt is over: its worker exited and its end, if it has one, is committed. */
  readonly done: Promise<void>;
  private settleExited!: () => void;
  private settleDone!: () => void;

  constructor(
    readonly job: Job,
    readonly worker: AttemptThread,
    log: Logger,
    /** Frees the attempt's slot in the runner. */
    private readonly onRetire: () => void,
  ) {
    this.log = log.child({ jobId: job.id });
    this.exited = new Promise((resolve) => (this.settleExited = resolve));
    this.done = new Promise((resolve) => (this.settleDone = resolve));
  }

  get token(): string {
    return this.job.lease!.token;
  }

  /** The worker has exited: what the reaper left to do runs now; resolves once it is committed (a requeued job keeps its place before the slot frees). */
  async workerGone(): Promise<void> {
    this.workerExited = true;
    this.settleExited();
    await this.afterExit?.();
  }

  /** Frees the attempt's slot, once. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.settleDone();
    this.onRetire();
  }

  /**
   * Terminates the worker whatever it is doing (a thread hogged by one computation included); its
   * open transaction rolls back, and the exit handler concludes the job `as` given. Resolves once it exited.
   */
  async stopHard(as: WorkerReport | null): Promise<void> {
    this.stoppedAs ??= as;
    await this.worker.terminate();
    await this.exited;
  }

  /**
   * Asks the worker to stop at its next batch boundary, which ends the job CANCELLED; a worker still
   * busy after `timeoutMs` is stopped hard (its open transaction rolls back; still CANCELLED).
   * Resolves once the attempt is over.
   */
  async cancel(timeoutMs: number): Promise<void> {
    if (!this.cancelRequested) {
      this.cancelRequested = true;
      this.worker.stop('cancel', this.token);
    }
    const timedOut = await Promise.race([this.done.then(() => false), delay(timeoutMs).then(() => true)]);
    if (timedOut) await this.stopHard(null); // the exit handler concludes: cancelRequested makes it CANCELLED
  }

  /** Asks the attempt to commit a checkpoint at its next burst and stop (a graceful stop of the server). */
  pause(): void {
    this.worker.stop('pause', this.token);
  }

  /** Stops an attempt that no longer holds its lease, without concluding anything: the job is no longer its own. */
  abandon(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    this.log.warn({ reason }, 'stopping an attempt that lost its lease');
    void this.worker.terminate();
  }
}
