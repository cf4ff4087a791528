import { rm } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { delay } from '../delay';
import { outOfMemory } from '../ingest/ingest-error';
import { spawnIngestWorker } from '../ingest/spawn';
import type { WorkerReport } from '../ingest/worker-protocol';
import { ingestTask } from './ingest-task';
import type { Job } from './model';
import type { JobRegistry } from './registry';

const CONCLUDE_RETRY_MS = 1000;

interface RunningJob {
  /** The job as claimed: its lease token fences everything this attempt writes. */
  job: Job;
  worker: Worker;
  log: Logger;
  cancelRequested: boolean;
  /** Whether the worker has sent its final report (or failed), so that its exit needs no conclusion. */
  reported: boolean;
  /** Whether the attempt lost its lease: the job is someone else's now, and this attempt concludes nothing. */
  lost: boolean;
  /** What the attempt concludes with when it was stopped hard (its time limit); null: as a crash, which a requested cancel turns into CANCELLED. */
  stoppedAs: WorkerReport | null;
  /** When the worker last showed it is alive: a hung worker gets no heartbeat and shows as stalled. */
  lastSeen: number;
  /** Settles when the worker has exited. */
  exited: Promise<void>;
  /** What the reaper left to do once the worker has exited: queue the job again (never beside its old worker). */
  afterExit: (() => void) | null;
  /** Whether the worker has exited. */
  workerExited: boolean;
  /** Whether the attempt's end is reported but not yet committed (the store refused; retried): it keeps its slot meanwhile. */
  concluding: boolean;
  /** Settles when the attempt is over: its worker exited and its end, if it has one, is committed. */
  done: Promise<void>;
  retire: () => void;
}

/**
 * Runs PENDING jobs in arrival order, up to the configured concurrency, each in its own worker
 * thread, under a lease that the heartbeat renews while the worker is alive. Turns what workers
 * report into registry transitions; never writes job state itself. The reaper takes back jobs whose
 * lease is void, at start and on every tick.
 */
export class JobRunner {
  /** The attempts this process runs, by lease token: a job re-claimed while its old worker still exits has two. */
  private readonly running = new Map<string, RunningJob>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private accepting = false;
  /** Set when claiming failed (the database was locked, say): the next tick tries again, so queued jobs never wait for an outside event. */
  private claimFailed = false;

  constructor(
    private readonly config: Config,
    private readonly dbPath: string,
    private readonly registry: JobRegistry,
    /** This process, as lease owner: leases of any other owner are void (one process serves a data directory). */
    private readonly owner: string,
    /**
     * Whether this process still holds the data directory; false once another process took it (this
     * one was frozen past the lock's staleness). Only a holder may reap others' leases or claim jobs.
     */
    private readonly holdsDataDir: () => boolean,
    private readonly log: Logger,
    private readonly onSettled: () => void,
  ) {}

  /** Takes back what a previous process left RUNNING, then starts taking jobs. */
  start(): void {
    this.reap();
    this.accepting = true;
    // Ticking at half the interval keeps every gap between two updates under the interval.
    this.heartbeatTimer = setInterval(() => {
      this.heartbeat();
      this.reap();
      if (this.claimFailed) this.kick();
    }, this.config.heartbeatIntervalMs / 2);
    this.heartbeatTimer.unref();
    this.kick();
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Starts as many waiting jobs as there is room for. Never throws: a failure is logged and the next kick tries again. */
  kick(): void {
    try {
      if (!this.accepting || !this.holdsDataDir()) return;
      while (this.accepting && this.running.size < this.config.maxConcurrentJobs) {
        const job = this.registry.claimNext(this.owner, this.config.leaseMs);
        if (!job) break;
        this.launch(job);
      }
      this.claimFailed = false;
    } catch (error) {
      this.claimFailed = true;
      this.log.error({ err: error }, 'starting queued jobs failed; retried on the next tick');
    }
  }

  private launch(job: Job): void {
    const worker = spawnIngestWorker({
      dbPath: this.dbPath,
      busyTimeoutMs: this.config.sqliteBusyTimeoutMs,
      aliveIntervalMs: this.config.heartbeatIntervalMs / 2,
      task: ingestTask(job, this.config),
    });
    let exited!: () => void;
    let retired!: () => void;
    const entry: RunningJob = {
      job,
      worker,
      log: this.log.child({ jobId: job.id }),
      cancelRequested: false,
      reported: false,
      lost: false,
      stoppedAs: null,
      lastSeen: Date.now(),
      exited: new Promise<void>((resolve) => (exited = resolve)),
      afterExit: null,
      workerExited: false,
      concluding: false,
      done: new Promise<void>((resolve) => (retired = resolve)),
      retire: () => {
        this.running.delete(job.lease!.token);
        retired();
        this.kick();
      },
    };
    this.running.set(job.lease!.token, entry);
    // A file built to be slow (or a rule that hogs the thread) must not keep a core: past its time limit the attempt is stopped hard.
    const limitMs = this.config.parseTimeLimitMs;
    const message = `the job took longer than the ${limitMs} ms an attempt may take to read its file; the dataset is unchanged`;
    const deadline = setTimeout(() => {
      if (!entry.reported && !entry.lost) void this.stopHard(entry, { type: 'failed', error: { code: 'PARSE_TIMEOUT', message } });
    }, limitMs);
    deadline.unref();
    worker.on('message', (report: WorkerReport) => {
      entry.lastSeen = Date.now();
      if (report.type === 'alive') return;
      if (report.type === 'progress') {
        this.guarded(entry, 'publishing progress', () => this.registry.progressed(job.num));
        return;
      }
      entry.reported = true;
      // Logged once here: the conclusion may be retried while the database is locked.
      if (report.type === 'failed' && report.detail) entry.log.error({ detail: report.detail, code: report.error.code }, 'ingest failed on storage');
      this.conclude(entry, report);
    });
    worker.on('error', (error) => {
      entry.log.error({ err: error }, 'ingest worker failed');
      const exhausted = outOfMemory(error);
      if (!entry.reported) this.conclude(entry, exhausted ? { type: 'failed', error: { code: exhausted.code, message: exhausted.message } } : { type: 'crashed', message: error.message });
      entry.reported = true;
    });
    worker.on('exit', (code) => {
      clearTimeout(deadline);
      // While stopping, workers are terminated on purpose; stop() settles their jobs.
      if (!entry.reported && !entry.lost && this.accepting) this.conclude(entry, entry.stoppedAs ?? { type: 'crashed', message: `worker exited with code ${code}` });
      entry.workerExited = true;
      entry.afterExit?.();
      exited();
      if (!entry.concluding) entry.retire();
    });
  }

  private guarded(entry: RunningJob, what: string, work: () => void): boolean {
    try {
      work();
      return true;
    } catch (error) {
      entry.log.error({ err: error }, `${what} failed`);
      return false;
    }
  }

  /** The job as it is now, if this attempt still holds its lease; null once it ended or was taken over. */
  private held(entry: RunningJob): Job | null {
    const current = this.registry.get(entry.job.id);
    return current?.status === 'RUNNING' && current.lease?.token === entry.job.lease!.token ? current : null;
  }

  /** Commits a job's end from its worker's final report; retried while the store refuses the commit. */
  private conclude(entry: RunningJob, report: WorkerReport): void {
    let concluded: Job | null = null;
    if (report.type === 'lost') {
      entry.log.warn('the attempt lost its lease; its last batch was rolled back and the job is no longer its own');
      return;
    }
    const committed = this.guarded(entry, 'committing the end of the job', () => {
      const current = this.held(entry);
      if (!current) return;
      if (report.type === 'paused') this.registry.release(current);
      // Every row is in once the worker finished: a cancel that came too late does not undo the job.
      else if (report.type === 'finished') concluded = this.registry.complete(current);
      else if (report.type === 'failed') concluded = this.registry.fail(current, report.error);
      else if (report.type === 'cancelled' || entry.cancelRequested) concluded = this.registry.cancel(current);
      else if (report.type === 'crashed') {
        entry.log.error({ detail: report.message }, 'ingest crashed');
        concluded = this.registry.fail(current, { code: 'INTERNAL_ERROR', message: 'the job failed unexpectedly; the error was logged' });
      }
    });
    entry.concluding = !committed;
    if (!committed) {
      setTimeout(() => this.conclude(entry, report), CONCLUDE_RETRY_MS).unref();
      return;
    }
    if (entry.workerExited) entry.retire();
    if (concluded) void this.ended(concluded);
  }

  /** After a job ended in this process: its abandoned rows are the purger's, its upload is deleted (unless kept). */
  private async ended(job: Job): Promise<void> {
    this.onSettled();
    if (!job.spoolPath || this.config.keepUploads) return;
    await rm(job.spoolPath, { force: true }).catch((error) => this.log.warn({ err: error, jobId: job.id }, 'deleting the spooled upload failed'));
  }

  /**
   * Cancels a job. A PENDING job ends at once; a RUNNING one stops at its next batch boundary, or
   * its worker is terminated after the cancel timeout (its open transaction rolls back). Resolves
   * with the job as it ended.
   */
  async cancel(job: Job): Promise<Job | null> {
    if (job.status === 'PENDING') {
      const cancelled = this.registry.cancel(job);
      if (cancelled) {
        await this.ended(cancelled);
        return cancelled;
      }
      return this.cancel(this.registry.get(job.id)!); // it started meanwhile
    }
    if (job.status !== 'RUNNING') return this.registry.get(job.id);
    const entry = job.lease ? this.running.get(job.lease.token) : undefined;
    if (!entry) {
      // No worker of this process runs it: an attempt whose process died, not yet reaped.
      const cancelled = this.registry.cancel(job);
      if (cancelled) await this.ended(cancelled);
      return cancelled ?? this.registry.get(job.id);
    }
    entry.cancelRequested = true;
    entry.worker.postMessage({ type: 'cancel' });
    const timedOut = await Promise.race([entry.done.then(() => false), delay(this.config.cancelTimeoutMs).then(() => true)]);
    if (timedOut) await this.stopHard(entry, null); // the exit handler concludes: cancelRequested makes it CANCELLED
    return this.registry.get(job.id);
  }

  /**
   * Terminates a worker whatever it is doing (a thread hogged by one computation included); its open
   * transaction rolls back, and the exit handler concludes the job `as` given. Resolves once it exited.
   */
  private async stopHard(entry: RunningJob, as: WorkerReport | null): Promise<void> {
    entry.stoppedAs ??= as;
    await entry.worker.terminate();
    await entry.exited;
  }

  /**
   * Renews the lease of every attempt whose worker is alive (which also advances updatedAt); a worker
   * silent for the stall threshold gets no renewal, so it shows as stalled and its lease lapses. An
   * attempt found to have lost its lease is stopped at once.
   */
  private heartbeat(): void {
    const now = Date.now();
    for (const entry of this.running.values()) {
      if (entry.lost || entry.reported || now - entry.lastSeen >= this.config.stallThresholdMs) continue;
      this.guarded(entry, 'heartbeat', () => {
        const current = this.held(entry);
        const due = current !== null && now - current.updatedAt >= this.config.heartbeatIntervalMs / 2;
        if (!current || (due && !this.registry.renewLease(current, this.config.leaseMs))) this.abandon(entry, 'its lease was taken over');
      });
    }
  }

  /** Stops an attempt that no longer holds its lease, without concluding anything: the job is no longer its own. */
  private abandon(entry: RunningJob, reason: string): void {
    if (entry.lost) return;
    entry.lost = true;
    entry.log.warn({ reason }, 'stopping an attempt that lost its lease');
    void entry.worker.terminate();
  }

  /**
   * Takes back RUNNING jobs whose lease is void (left by a process that died, or lapsed because the
   * worker hung): each resumes from its checkpoint, or fails with INTERRUPTED after its last attempt.
   */
  private reap(): void {
    let reaped = 0;
    try {
      // A process resumed after a freeze sees the new holder's leases as void: they are not its to take.
      if (!this.holdsDataDir()) return;
      for (const job of this.registry.withVoidLease(this.owner)) {
        const entry = job.lease ? this.running.get(job.lease.token) : undefined;
        const reason = job.lease?.owner === this.owner ? 'its worker stopped responding until its lease expired' : 'the process running it stopped';
        if (!entry) reaped += this.interrupt(job, reason) ? 1 : 0;
        else if (!entry.lost) {
          // The job is queued again only once its worker has exited: a new attempt never runs beside the old one.
          entry.afterExit = () => this.interrupt(job, reason);
          this.abandon(entry, 'its lease expired');
        }
      }
    } catch (error) {
      this.log.error({ err: error }, 'reaping jobs with a void lease failed; retried on the next tick');
    }
    if (reaped > 0) this.kick();
  }

  /** Ends an attempt that lost its lease: the job is queued again, or fails INTERRUPTED. False when that could not be committed (retried on the next tick). */
  private interrupt(job: Job, reason: string): boolean {
    try {
      const outcome = this.registry.interrupt(job, reason, this.config.maxAttempts);
      if (outcome && outcome.status !== 'PENDING') void this.ended(outcome);
      return true;
    } catch (error) {
      this.log.error({ err: error, jobId: job.id }, 'taking back a job with a void lease failed; retried on the next tick');
      return false;
    }
  }

  /**
   * Stops taking jobs and asks each running one to pause at its next checkpoint; within the grace
   * period each commits and its job goes back to the queue for the next process, resuming where it
   * paused. A worker still busy at the deadline is terminated (its open batch rolls back, so the job
   * resumes from the checkpoint before). Jobs being cancelled end CANCELLED.
   */
  async stop(graceMs: number): Promise<void> {
    this.accepting = false;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const entries = [...this.running.values()];
    for (const entry of entries) entry.worker.postMessage({ type: 'pause' });
    await Promise.race([Promise.all(entries.map((entry) => entry.exited)), delay(graceMs)]);
    await Promise.all(
      entries.map(async (entry) => {
        await entry.worker.terminate();
        this.guarded(entry, 'settling the job at stop', () => {
          const current = this.held(entry);
          if (!current) return;
          if (entry.cancelRequested) this.registry.cancel(current);
          else this.registry.release(current);
        });
      }),
    );
  }
}
