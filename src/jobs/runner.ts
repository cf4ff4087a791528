import type { Logger } from 'pino';
import type { Config } from '../config';
import { delay } from '../delay';
import { outOfMemory } from '../ingest/ingest-error';
import { IngestWorkerPool } from '../ingest/worker-pool';
import type { WorkerReport } from '../ingest/worker-protocol';
import type { BlobStore, LocalFile } from '../ports/blob-store';
import type { WorkerEngineSpec } from '../ports/engine';
import { endAs } from './attempt-end';
import { ingestTask } from './ingest-task';
import type { Job } from './model';
import type { JobRegistry } from './registry';
import { RunningAttempt } from './running-attempt';

const CONCLUDE_RETRY_MS = 1000;

/** What the runner works with besides the registry: the engine's worker side and blob store, and this instance. */
export interface RunnerDeps {
  registry: JobRegistry;
  blobs: BlobStore;
  /** What each ingest worker opens its own connection to the engine with. */
  workerEngine: WorkerEngineSpec;
  /** This instance, as lease owner: leases of any other owner are void (one process serves a data directory). */
  owner: string;
  /** Now on the storage's clock, which job timestamps and leases are measured on. */
  clock: () => number;
  /**
   * Whether this instance still holds the data directory; false once another process took it (this
   * one was frozen past the lock's staleness). Only a holder may reap others' leases or claim jobs.
   */
  holdsDataDir: () => Promise<boolean>;
  log: Logger;
  /** Look for queued jobs on every tick too: other instances create jobs, and their notices may be lost. */
  pollForJobs: boolean;
  /** Called after a job ended in this process. */
  onSettled: () => void;
}

/**
 * Runs PENDING jobs in arrival order, up to the configured concurrency, each on a thread of the
 * ingest pool (started with the runner), under a lease that the heartbeat renews while the worker is
 * alive. Turns what workers report into registry transitions; never writes job state itself. The
 * reaper takes back jobs whose lease is void, at start and on every tick.
 */
export class JobRunner {
  /** The attempts this process runs, by lease token: a job re-claimed while its old worker still exits has two. */
  private readonly running = new Map<string, RunningAttempt>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private accepting = false;
  /** Set when claiming failed (the database was locked, say): the next tick tries again, so queued jobs never wait for an outside event. */
  private claimFailed = false;
  /** The kick in progress, if any; a kick meanwhile asks it to go round once more. */
  private kicking: Promise<void> | null = null;
  private kickAgain = false;
  /** Whether a tick's heartbeat and reaping are still under way: ticks never overlap. */
  private ticking = false;
  /** Claims under way, and claimed jobs whose upload is being copied to local scratch space, before their worker starts. */
  private starting = 0;
  private readonly registry: JobRegistry;
  private readonly owner: string;
  private readonly log: Logger;
  private readonly pool: IngestWorkerPool;

  constructor(
    private readonly config: Config,
    private readonly deps: RunnerDeps,
  ) {
    ({ registry: this.registry, owner: this.owner, log: this.log } = deps);
    this.pool = new IngestWorkerPool({ size: config.ingestWorkers, engine: deps.workerEngine, aliveIntervalMs: config.heartbeatIntervalMs / 2, log: deps.log });
  }

  /** Takes back what a previous process left RUNNING, then starts taking jobs. */
  async start(): Promise<void> {
    this.pool.start(); // the threads load their code while the previous process's jobs are taken back
    await this.reap();
    this.accepting = true;
    // Ticking at half the interval keeps every gap between two updates under the interval.
    this.heartbeatTimer = setInterval(() => void this.tick(), this.config.heartbeatIntervalMs / 2);
    this.heartbeatTimer.unref();
    this.kick();
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.heartbeat();
      await this.reap();
      if (this.claimFailed || this.deps.pollForJobs) this.kick();
    } finally {
      this.ticking = false;
    }
  }

  /** Jobs this process runs, those being claimed or whose upload is still being fetched included. */
  get activeCount(): number {
    return this.running.size + this.starting;
  }

  /** Starts as many waiting jobs as there is room for, one kick at a time. Never throws: a failure is logged and the next tick tries again. */
  kick(): void {
    if (this.kicking) {
      this.kickAgain = true;
      return;
    }
    this.kicking = this.claimWhileRoom().finally(() => {
      this.kicking = null;
      if (this.kickAgain) {
        this.kickAgain = false;
        this.kick();
      }
    });
  }

  private async claimWhileRoom(): Promise<void> {
    try {
      if (!this.accepting || !(await this.deps.holdsDataDir())) return;
      while (this.accepting && this.activeCount < this.config.maxConcurrentJobs) {
        if (!(await this.startNext())) break;
      }
      this.claimFailed = false;
    } catch (error) {
      this.claimFailed = true;
      this.log.error({ err: error }, 'starting queued jobs failed; retried on the next tick');
    }
  }

  /**
   * Claims the next waiting job and starts it; false when none waits. Counted as active from the
   * claim on: the database shows the job RUNNING as soon as the claim commits, before its answer is here.
   */
  private async startNext(): Promise<boolean> {
    this.starting++;
    try {
      const job = await this.registry.claimNext(this.owner, this.config.leaseMs);
      if (job) await this.launch(job);
      return job !== null;
    } finally {
      this.starting--;
    }
  }

  /** Starts a claimed job's worker on a local copy of its upload; a job whose upload cannot be read fails STORAGE_ERROR. */
  private async launch(job: Job): Promise<void> {
    // Asked to cancel while another instance ran it, which stopped before it could.
    if (job.cancelRequested) return this.cancelUnstarted(job);
    let file: LocalFile;
    try {
      file = await this.fetchUpload(job);
    } catch (error) {
      this.log.error({ err: error, jobId: job.id }, 'reading the upload failed');
      // Worded as when the worker cannot read its file (SQLite's spool), so that callers see one failure whatever the engine.
      const { code } = error as { code?: unknown };
      const cause = typeof code === 'string' ? ` (${code})` : '';
      const message = `reading the spooled upload failed${cause}; the dataset is unchanged and the job can be submitted again`;
      const failed = await this.registry.fail(job, { code: 'STORAGE_ERROR', message });
      if (failed) void this.settled(failed);
      return;
    }
    // A cancel asked while the upload was copied went through the store: no worker was there to hear it.
    const current = await this.registry.get(job.id);
    if (current?.cancelRequested && current.lease?.token === job.lease!.token) {
      await file.release();
      return this.cancelUnstarted(current);
    }
    const worker = this.pool.run(ingestTask(job, file.path, this.config), this.log.child({ jobId: job.id }));
    const entry = new RunningAttempt(job, worker, this.log, () => {
      this.running.delete(entry.token);
      this.kick();
    });
    this.running.set(entry.token, entry);
    void entry.exited.then(() => file.release());
    this.watch(entry);
  }

  /** Ends a claimed job whose cancel was asked before its worker started. */
  private async cancelUnstarted(job: Job): Promise<void> {
    const cancelled = await this.registry.cancel(job);
    if (cancelled) void this.settled(cancelled);
  }

  /** The job's upload as a local file; copying a large one out of the database may outlast a lease, which is renewed meanwhile. */
  private async fetchUpload(job: Job): Promise<LocalFile> {
    const renewal = setInterval(() => {
      this.registry.renewLease(job, this.config.leaseMs).catch((error) => this.log.warn({ err: error, jobId: job.id }, 'renewing the lease while fetching the upload failed'));
    }, this.config.heartbeatIntervalMs);
    try {
      return await this.deps.blobs.localFile(job.upload!);
    } finally {
      clearInterval(renewal);
    }
  }

  /** Turns what the worker reports, and how it ends, into the attempt's conclusion. */
  private watch(entry: RunningAttempt): void {
    const { job, worker } = entry;
    // A file built to be slow (or a rule that hogs the thread) must not keep a core: past its time limit the attempt is stopped hard.
    const limitMs = this.config.parseTimeLimitMs;
    const message = `the job took longer than the ${limitMs} ms an attempt may take to read its file; the dataset is unchanged`;
    const deadline = setTimeout(() => {
      if (!entry.reported && !entry.lost) void entry.stopHard({ type: 'failed', error: { code: 'PARSE_TIMEOUT', message } });
    }, limitMs);
    deadline.unref();
    worker.on('message', (report: WorkerReport) => {
      entry.lastSeen = Date.now();
      if (report.type === 'alive') return;
      if (report.type === 'progress') {
        void this.guarded(entry, 'publishing progress', () => this.registry.progressed(job.num));
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
      void entry.workerGone().then(() => {
        if (!entry.concluding) entry.retire();
      });
    });
  }

  private async guarded(entry: RunningAttempt, what: string, work: () => Promise<unknown>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      entry.log.error({ err: error }, `${what} failed`);
      return false;
    }
  }

  /** The job as it is now, if this attempt still holds its lease; null once it ended or was taken over. */
  private async held(entry: RunningAttempt): Promise<Job | null> {
    const current = await this.registry.get(entry.job.id);
    return current?.status === 'RUNNING' && current.lease?.token === entry.token ? current : null;
  }

  /** Commits a job's end from its worker's final report; retried while the store refuses the commit. The attempt keeps its slot meanwhile. */
  private conclude(entry: RunningAttempt, report: WorkerReport): void {
    if (report.type === 'lost') {
      entry.log.warn('the attempt lost its lease; its last batch was rolled back and the job is no longer its own');
      return;
    }
    entry.concluding = true;
    let concluded: Job | null = null;
    void this.guarded(entry, 'committing the end of the job', async () => {
      const current = await this.held(entry);
      if (current) concluded = await endAs(this.registry, this.config.maxAttempts, entry, current, report);
    }).then((committed) => {
      if (!committed) {
        setTimeout(() => this.conclude(entry, report), CONCLUDE_RETRY_MS).unref();
        return;
      }
      entry.concluding = false;
      if (entry.workerExited) entry.retire();
      if (concluded) void this.settled(concluded);
    });
  }

  /** After a job ended here: its abandoned rows are the purger's, its upload is deleted (unless kept). */
  async settled(job: Job): Promise<void> {
    this.deps.onSettled();
    await this.dropUpload(job);
  }

  private async dropUpload(job: Job): Promise<void> {
    if (!job.upload || this.config.keepUploads) return;
    await this.deps.blobs.delete(job.upload).catch((error) => this.log.warn({ err: error, jobId: job.id }, 'deleting the upload failed'));
  }

  /** The attempt of this process that holds `job`'s lease, if any. */
  attemptOf(job: Job): RunningAttempt | undefined {
    return job.lease ? this.running.get(job.lease.token) : undefined;
  }

  /** A cancel asked of a job (on any instance): if this process runs it, it stops at its next batch boundary and ends CANCELLED. */
  cancelRequested(job: Job): void {
    const entry = this.attemptOf(job);
    if (entry && !entry.cancelRequested) void entry.cancel(this.config.cancelTimeoutMs);
  }

  /**
   * Renews the lease of every attempt whose worker is alive (which also advances updatedAt); a worker
   * silent for the stall threshold gets no renewal, so it shows as stalled and its lease lapses. An
   * attempt found to have lost its lease is stopped at once.
   */
  private async heartbeat(): Promise<void> {
    for (const entry of this.running.values()) {
      if (entry.lost || entry.reported || Date.now() - entry.lastSeen >= this.config.stallThresholdMs) continue;
      await this.guarded(entry, 'heartbeat', async () => {
        const current = await this.held(entry);
        if (current?.cancelRequested) this.cancelRequested(current); // its notice may have been lost
        const due = current !== null && this.deps.clock() - current.updatedAt >= this.config.heartbeatIntervalMs / 2;
        if (!current || (due && !(await this.registry.renewLease(current, this.config.leaseMs)))) entry.abandon('its lease was taken over');
      });
    }
  }

  /**
   * Takes back RUNNING jobs whose lease is void (left by a process that died, or lapsed because the
   * worker hung): each resumes from its checkpoint, or fails with INTERRUPTED after its last attempt.
   */
  private async reap(): Promise<void> {
    try {
      // A process resumed after a freeze sees the new holder's leases as void: they are not its to take.
      if (!(await this.deps.holdsDataDir())) return;
      for (const job of await this.registry.withVoidLease(this.owner)) {
        const entry = job.lease ? this.running.get(job.lease.token) : undefined;
        const reason = job.lease?.owner === this.owner ? 'its worker stopped responding until its lease expired' : 'the process running it stopped';
        if (!entry) await this.interrupt(job, reason);
        else if (!entry.lost) {
          // The job is queued again only once its worker has exited: a new attempt never runs beside the old one.
          entry.afterExit = () => this.interrupt(job, reason);
          entry.abandon('its lease expired');
        }
      }
    } catch (error) {
      this.log.error({ err: error }, 'reaping jobs with a void lease failed; retried on the next tick');
    }
  }

  /** Ends an attempt that lost its lease: the job is queued again (and claimed when there is room), or fails INTERRUPTED. A failure is retried on the next tick. */
  private async interrupt(job: Job, reason: string): Promise<void> {
    try {
      const outcome = await this.registry.interrupt(job, reason, this.config.maxAttempts);
      if (outcome?.status === 'PENDING') this.kick();
      else if (outcome) void this.settled(outcome);
    } catch (error) {
      this.log.error({ err: error, jobId: job.id }, 'taking back a job with a void lease failed; retried on the next tick');
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
    await this.kicking;
    const entries = [...this.running.values()];
    for (const entry of entries) entry.pause();
    await Promise.race([Promise.all(entries.map((entry) => entry.exited)), delay(graceMs)]);
    await Promise.all(
      entries.map(async (entry) => {
        await entry.worker.terminate();
        await this.guarded(entry, 'settling the job at stop', async () => {
          const current = await this.held(entry);
          if (!current) return;
          // A cancel asked through the store (its notice perhaps not heard yet) counts as much as one asked here.
          if (!entry.cancelRequested && !current.cancelRequested) return void (await this.registry.release(current));
          const cancelled = await this.registry.cancel(current);
          if (cancelled) await this.dropUpload(cancelled);
        });
      }),
    );
    await this.pool.close();
  }
}
