import { rm } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { spawnIngestWorker } from '../ingest/spawn';
import type { WorkerReport } from '../ingest/worker-protocol';
import type { Job } from './model';
import type { JobRegistry } from './registry';

interface RunningJob {
  job: Job;
  worker: Worker;
  cancelRequested: boolean;
  /** Settles once the job's terminal state is committed (or the worker is gone). */
  settled: Promise<void>;
  settle: () => void;
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
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.config.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.kick();
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Starts as many waiting jobs as there is room for. */
  kick(): void {
    while (this.accepting && this.running.size < this.config.maxConcurrentJobs) {
      const job = this.registry.claimNext();
      if (!job) return;
      this.launch(job);
    }
  }

  private launch(job: Job): void {
    const log = this.log.child({ jobId: job.id });
    const worker = spawnIngestWorker({
      dbPath: this.dbPath,
      busyTimeoutMs: this.config.sqliteBusyTimeoutMs,
      task: {
        jobNum: job.num,
        datasetId: job.datasetId,
        spoolPath: job.spoolPath!,
        format: job.file.format,
        fileSize: job.file.size,
        options: job.options,
        batchRows: this.config.batchRows,
        progressIntervalMs: this.config.progressIntervalMs,
        inferSampleRows: this.config.inferSampleRows,
      },
    });
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const entry: RunningJob = { job, worker, cancelRequested: false, settled, settle };
    this.running.set(job.num, entry);
    let reported = false;
    worker.on('message', (report: WorkerReport) => {
      if (report.type === 'progress') {
        this.registry.progressed(job.num);
        return;
      }
      reported = true;
      this.conclude(entry, report, log);
    });
    worker.on('error', (error) => {
      log.error({ err: error }, 'ingest worker failed');
      if (!reported) this.conclude(entry, { type: 'crashed', message: error.message }, log);
      reported = true;
    });
    worker.on('exit', (code) => {
      // While stopping, workers are terminated on purpose; their jobs are queued again by stop().
      if (!reported && this.accepting) this.conclude(entry, { type: 'crashed', message: `worker exited with code ${code}` }, log);
      this.running.delete(job.num);
      entry.settle();
      this.kick();
    });
  }

  /** Commits a job's end from its worker's final report. */
  private conclude(entry: RunningJob, report: WorkerReport, log: Logger): void {
    const current = this.registry.get(entry.job.id);
    if (!current || current.status !== 'RUNNING') return; // already ended (hard cancel)
    if (entry.cancelRequested && report.type !== 'failed') {
      this.registry.cancel(current);
    } else if (report.type === 'finished') {
      this.registry.complete(current);
    } else if (report.type === 'cancelled') {
      this.registry.cancel(current);
    } else if (report.type === 'failed') {
      this.registry.fail(current, report.error);
    } else if (report.type === 'crashed') {
      log.error({ detail: report.message }, 'ingest crashed');
      this.registry.fail(current, { code: 'INTERNAL_ERROR', message: 'the job failed unexpectedly; the error was logged' });
    }
    void this.discardSpool(current);
    this.onSettled();
  }

  private async discardSpool(job: Job): Promise<void> {
    if (job.spoolPath) await rm(job.spoolPath, { force: true });
  }

  /**
   * Cancels a job. A PENDING job ends at once; a RUNNING one stops at its next batch boundary, or
   * is stopped hard after the cancel timeout. Resolves with the job as it ended.
   */
  async cancel(job: Job): Promise<Job | null> {
    if (job.status === 'PENDING') {
      const cancelled = this.registry.cancel(job);
      if (cancelled) {
        await this.discardSpool(cancelled);
        this.onSettled();
      }
      return cancelled ?? this.cancel(this.registry.get(job.id)!);
    }
    const entry = this.running.get(job.num);
    if (job.status !== 'RUNNING' || !entry) return job.status === 'RUNNING' ? this.registry.cancel(job) : null;
    entry.cancelRequested = true;
    entry.worker.postMessage({ type: 'cancel' });
    const timedOut = await Promise.race([entry.settled.then(() => false), delay(this.config.cancelTimeoutMs).then(() => true)]);
    if (timedOut) {
      const current = this.registry.get(job.id)!;
      if (current.status === 'RUNNING') this.registry.cancel(current);
      await entry.worker.terminate();
    }
    return this.registry.get(job.id);
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const { job } of this.running.values()) {
      const current = this.registry.get(job.id);
      if (current?.status === 'RUNNING' && now - current.updatedAt >= this.config.heartbeatIntervalMs) this.registry.heartbeat(job.num);
    }
  }

  /** Stops taking jobs and stops the running ones; they are queued again on the next start. */
  async stop(): Promise<void> {
    this.accepting = false;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await Promise.all(
      [...this.running.values()].map(async (entry) => {
        await entry.worker.terminate();
        const current = this.registry.get(entry.job.id);
        if (current?.status === 'RUNNING') this.registry.requeue(current, 'the server stopped');
      }),
    );
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
