import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isTerminal, type Job, JOB_STATUSES, type JobStatus } from '../jobs/model';
import type { JobChanged } from '../ports/event-bus';
import type { AttemptOutcome } from '../webhooks/model';

/** What the metrics read when scraped. */
export interface MetricsSources {
  /** This instance's id: a label on every series, so that a cluster's instances sum up. */
  instance: string;
  /** Jobs of every workspace by status (the database's, so the same on every instance). */
  jobCounts: () => Promise<Partial<Record<JobStatus, number>>>;
  activeJobs: () => number;
  subscriptions: () => number;
}

/** Seconds: from a 10-row file to a multi-million-row one. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The outcome label of a webhook attempt: delivered, to be retried, or given up. */
function attemptOutcome(outcome: AttemptOutcome): 'delivered' | 'retrying' | 'failed' {
  if (outcome.delivered) return 'delivered';
  return outcome.nextAttemptAt === null ? 'failed' : 'retrying';
}

/**
 * The operators' view in Prometheus format (`GET /metrics`): what this instance ran (rows, bytes,
 * durations, queue wait, webhook attempts), what it holds now (running jobs, subscriptions), and
 * the jobs of the whole deployment by status. No workspace or dataset labels: the endpoint has no
 * key, and label values that grow with the data would grow the scrape without bound.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly rows: Counter<'outcome'>;
  private readonly bytes: Counter;
  private readonly durations: Histogram<'status'>;
  private readonly queueWait: Histogram;
  private readonly webhookAttempts: Counter<'outcome'>;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ instance: sources.instance });
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    this.rows = new Counter({ name: 'sluice_rows_ingested_total', help: 'Rows of the jobs that ended on this instance: written (COMPLETED jobs) or rejected', labelNames: ['outcome'], registers });
    this.bytes = new Counter({ name: 'sluice_bytes_ingested_total', help: 'Bytes read of the files of the jobs that completed on this instance', registers });
    this.durations = new Histogram({ name: 'sluice_job_duration_seconds', help: 'From a job’s first start to its end, by final status (jobs that ended on this instance)', labelNames: ['status'], buckets: DURATION_BUCKETS, registers });
    this.queueWait = new Histogram({ name: 'sluice_job_queue_wait_seconds', help: 'From a job’s creation to its first start (jobs started on this instance)', buckets: WAIT_BUCKETS, registers });
    this.webhookAttempts = new Counter({ name: 'sluice_webhook_deliveries_total', help: 'Webhook attempts sent by this instance, by outcome (delivered, retrying, failed: given up)', labelNames: ['outcome'], registers });
    this.gauges(registers);
  }

  private gauges(registers: Registry[]): void {
    const { sources } = this;
    new Gauge({ name: 'sluice_jobs', help: 'Jobs of the deployment by status', labelNames: ['status'], registers, async collect() {
      const counts = await sources.jobCounts();
      for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
    } });
    new Gauge({ name: 'sluice_jobs_active', help: 'Jobs this instance is running (being claimed or fetched included)', registers, collect() {
      this.set(sources.activeJobs());
    } });
    new Gauge({ name: 'sluice_subscriptions', help: 'Open jobProgress subscriptions on this instance (WebSocket and SSE)', registers, collect() {
      this.set(sources.subscriptions());
    } });
  }

  /** Counts a job's start and end where this instance ran it (another instance counts its own). */
  jobChanged({ kind, job }: JobChanged): void {
    if (kind !== 'transition' || job.instance !== this.sources.instance) return;
    if (job.status === 'RUNNING' && job.attempts === 1 && job.startedAt !== null) this.queueWait.observe((job.startedAt - job.createdAt) / 1000);
    if (isTerminal(job.status)) this.jobEnded(job);
  }

  private jobEnded(job: Job): void {
    const { progress } = job;
    if (job.startedAt !== null && job.completedAt !== null) this.durations.observe({ status: job.status }, (job.completedAt - job.startedAt) / 1000);
    this.rows.inc({ outcome: 'rejected' }, progress.rowsRejected);
    if (job.status !== 'COMPLETED') return;
    this.rows.inc({ outcome: 'written' }, progress.rowsWritten);
    this.bytes.inc(progress.bytesRead);
  }

  webhookAttempt(outcome: AttemptOutcome): void {
    this.webhookAttempts.inc({ outcome: attemptOutcome(outcome) });
  }

  /** Answers a scrape. */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('metrics are unavailable: the database did not answer\n');
    }
  }
}
