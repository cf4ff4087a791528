import { rm } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { spawnIngestWorker } from '../ingest/spawn';
import type { WorkerReport } from '../ingest/worker-protocol';
import type { Job } from './model';
import type { JobRegistry } from './registry';

const CONCLUDE_RETRY_MS = 1000;

interface RunningJob {
  job: Job;
  worker: Worker;
  log: Logger;
  cancelRequested: boolean;
  /** Whether the worker has sent its final report (or failed), so that its exit needs no conclusion. */
  reported: boolean;
  /** When the worker last showed it is alive: a hung worker gets no heartbeat and shows as stalled. */
  lastSeen: number;
  /** Settles when the worker has exited. */
  exited: Promise<void>;
}

/**
 * Runs PENDING jobs in arrival order, up to the configured concurrency, each in its own worker
 * thread. Turns what workers report into registry transitions; never writes job state itself.
 */
export class JobRunner {
  private readonly running = new Map<number, RunningJob>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private accepting = false;

  constructor(
    private readonly config: Config,
    private readonly dbPath: string,
    private readonly registry: JobRegistry,
    private readonly log: Logger,
    private readonly onSettled: () => void,
  ) {}

  /** Re-queues what a previous process left RUNNING, then starts taking jobs. */
  start(): void {
    for (const job of this.registry.withStatus('RUNNING')) this.registry.requeue(job, 'the process running it stopped');
    this.accepting = true;
    // Ticking at half the interval keeps every gap between two updates under the interval.
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.config.heartbeatIntervalMs / 2);
    this.heartbeatTimer.unref();
    this.kick();
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Starts as many waiting jobs as there is room for. Never throws: a failure is logged and the next kick tries again. */
  kick(): void {
    try {
      while (this.accepting && this.running.size < this.config.maxConcurrentJobs) {
        const job = this.registry.claimNext();
        if (!job) return;
        this.launch(job);
      }
    } catch (error) {
      this.log.error({ err: error }, 'starting queued jobs failed; retried on the next kick');
    }
  }

  private launch(job: Job): void {
    const worker = spawnIngestWorker({
      dbPath: this.dbPath,
      busyTimeoutMs: this.config.sqliteBusyTimeoutMs,
      aliveIntervalMs: this.config.heartbeatIntervalMs / 2,
      task: {
        jobNum: job.num,
        datasetId: job.datasetId,
        spoolPath: job.spoolPath!,
        format: job.file.format,
        options: job.options,
        batchRows: this.config.batchRows,
        progressIntervalMs: this.config.progressIntervalMs,
        inferSampleRows: this.config.inferSampleRows,
        maxRecordBytes: this.config.maxRecordBytes,
      },
    });
    let exited!: () => void;
    const entry: RunningJob = {
      job,
      worker,
      log: this.log.child({ jobId: job.id }),
      cancelRequested: false,
      reported: false,
      lastSeen: Date.now(),
      exited: new Promise<void>((resolve) => (exited = resolve)),
    };
    this.running.set(job.num, entry);
    worker.on('message', (report: WorkerReport) => {
      entry.lastSeen = Date.now();
      if (report.type === 'alive') return;
      if (report.type === 'progress') {
        this.guarded(entry, 'publishing progress', () => this.registry.progressed(job.num));
        return;
      }
      entry.reported = true;
      this.conclude(entry, report);
    });
    worker.on('error', (error) => {
      entry.log.error({ err: error }, 'ingest worker failed');
      if (!entry.reported) this.conclude(entry, { type: 'crashed', message: error.message });
      entry.reported = true;
    });
    worker.on('exit', (code) => {
      // While stopping, workers are terminated on purpose; stop() settles their jobs.
      if (!entry.reported && this.accepting) this.conclude(entry, { type: 'crashed', message: `worker exited with code ${code}` });
      this.running.delete(job.num);
      exited();
      this.kick();
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

  /** Commits a job's end from its worker's final report; retried while the store refuses the commit. */
  private conclude(entry: RunningJob, report: WorkerReport): void {
    let concluded: Job | null = null;
    const committed = this.guarded(entry, 'committing the end of the job', () => {
      const current = this.registry.get(entry.job.id);
      if (!current || current.status !== 'RUNNING') return;
      if (entry.cancelRequested && report.type !== 'failed') concluded = this.registry.cancel(current);
      else if (report.type === 'finished') concluded = this.registry.complete(current);
      else if (report.type === 'cancelled') concluded = this.registry.cancel(current);
      else if (report.type === 'failed') concluded = this.registry.fail(current, report.error);
      else if (report.type === 'crashed') {
        entry.log.error({ detail: report.message }, 'ingest crashed');
        concluded = this.registry.fail(current, { code: 'INTERNAL_ERROR', message: 'the job failed unexpectedly; the error was logged' });
      }
    });
    if (!committed) {
      setTimeout(() => this.conclude(entry, report), CONCLUDE_RETRY_MS).unref();
      return;
    }
    if (concluded) void this.discardSpool(concluded);
    this.onSettled();
  }

  private async discardSpool(job: Job): Promise<void> {
    if (!job.spoolPath) return;
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
        await this.discardSpool(cancelled);
        this.onSettled();
        return cancelled;
      }
      return this.cancel(this.registry.get(job.id)!); // it started meanwhile
    }
    const entry = this.running.get(job.num);
    if (job.status !== 'RUNNING' || !entry) return this.registry.get(job.id);
    entry.cancelRequested = true;
    entry.worker.postMessage({ type: 'cancel' });
    const timedOut = await Promise.race([entry.exited.then(() => false), delay(this.config.cancelTimeoutMs).then(() => true)]);
    if (timedOut) {
      await entry.worker.terminate(); // the exit handler concludes: cancelRequested makes it CANCELLED
      await entry.exited;
    }
    return this.registry.get(job.id);
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const entry of this.running.values()) {
      if (now - entry.lastSeen >= this.config.stallThresholdMs) continue; // a hung worker must show as stalled
      this.guarded(entry, 'heartbeat', () => {
        const current = this.registry.get(entry.job.id);
        if (current?.status === 'RUNNING' && now - current.updatedAt >= this.config.heartbeatIntervalMs / 2) this.registry.heartbeat(current.num);
      });
    }
  }

  /** Stops taking jobs and stops the running ones: cancelled if so asked, else queued again for the next start. */
  async stop(): Promise<void> {
    this.accepting = false;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await Promise.all(
      [...this.running.values()].map(async (entry) => {
        await entry.worker.terminate();
        this.guarded(entry, 'settling the job at stop', () => {
          const current = this.registry.get(entry.job.id);
          if (current?.status !== 'RUNNING') return;
          if (entry.cancelRequested) this.registry.cancel(current);
          else this.registry.requeue(current, 'the server stopped');
        });
      }),
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
