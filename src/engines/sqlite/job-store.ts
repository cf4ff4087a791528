import { randomUUID } from 'node:crypto';
import { type IssueRow, toIssue, toRejectedRow } from '../shared/job-record';
import { type Issue, type IssueSeverity, type Job, type JobStatus, type RejectedRow, rowsInserted } from '../../jobs/model';
import type { Claim, DatasetEffect, JobFilter, JobStore, NewJob, NewJobDataset, TransitionPatch, WorkspaceLoad } from '../../ports/job-store';
import { outboxDeliveries } from '../../webhooks/outbox';
import { type Db, writeTransaction } from './database';
import type { SqliteDatasetStore } from './dataset-store';
import { issueStatements, type JobRow, jobStatements, toJob } from './job-rows';
import type { SqliteWebhookStore } from './webhook-store';

function filterSql(filter: JobFilter): { where: string; params: unknown[] } {
  const clauses = ['workspace = ?'];
  const params: unknown[] = [filter.workspace];
  if (filter.statuses && filter.statuses.length > 0) {
    clauses.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
    params.push(...filter.statuses);
  }
  if (filter.datasetId !== undefined) {
    clauses.push('dataset_id = ?');
    params.push(filter.datasetId);
  }
  return { where: clauses.join(' AND '), params };
}

/** The job store on SQLite: each port method is one transaction (BEGIN IMMEDIATE where it writes after reading). */
export class SqliteJobStore implements JobStore {
  private readonly statements;

  constructor(
    private readonly db: Db,
    private readonly datasets: SqliteDatasetStore,
    private readonly webhooks: SqliteWebhookStore,
  ) {
    this.statements = { ...jobStatements(db), ...issueStatements(db) };
  }

  async create(job: NewJob, dataset: NewJobDataset, admit: (load: WorkspaceLoad) => void): Promise<{ job: Job; created: boolean }> {
    return writeTransaction(this.db, () => {
      const earlier = job.idempotencyKey === null ? null : this.findByKey(job.workspace, job.idempotencyKey);
      if (earlier) return { job: earlier, created: false };
      admit(this.statements.load.get(job.workspace) as WorkspaceLoad);
      const datasetId = this.datasetFor(job, dataset);
      const { lastInsertRowid } = this.statements.insert.run({
        id: job.id,
        workspace: job.workspace,
        datasetId,
        fileName: job.file.name,
        fileFormat: job.file.format,
        fileSize: job.file.size,
        fileSha256: job.file.sha256,
        upload: job.upload,
        options: JSON.stringify(job.options),
        now: job.now,
        idempotencyKey: job.idempotencyKey,
      });
      return { job: this.byNum(Number(lastInsertRowid))!, created: true };
    });
  }

  /** The job's dataset: created with it when new (provisional for a dry run), confirmed when a real job names a provisional one. */
  private datasetFor(job: NewJob, dataset: NewJobDataset): number {
    const found = this.datasets.findByName(job.workspace, dataset.name);
    if (!found) return this.datasets.insert(job.workspace, dataset.name, dataset.columns, job.options.dryRun, job.now).id;
    if (found.provisional && !job.options.dryRun) this.datasets.confirm(found.id);
    return found.id;
  }

  async get(id: string): Promise<Job | null> {
    const row = this.statements.byId.get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async getByNum(num: number): Promise<Job | null> {
    return this.byNum(num);
  }

  private byNum(num: number): Job | null {
    const row = this.statements.byNum.get(num) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async findByIdempotencyKey(workspace: string, key: string): Promise<Job | null> {
    return this.findByKey(workspace, key);
  }

  private findByKey(workspace: string, key: string): Job | null {
    const row = this.statements.byKey.get(workspace, key) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async list(filter: JobFilter, limit: number, beforeNum?: number): Promise<Job[]> {
    const { where, params } = filterSql(filter);
    const before = beforeNum === undefined ? '' : ' AND num < ?';
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE ${where}${before} ORDER BY num DESC LIMIT ?`)
      .all(...params, ...(beforeNum === undefined ? [] : [beforeNum]), limit) as JobRow[];
    return rows.map(toJob);
  }

  async count(filter: JobFilter): Promise<number> {
    const { where, params } = filterSql(filter);
    return (this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE ${where}`).get(...params) as { n: number }).n;
  }

  async countByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    const rows = this.db.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as Array<{ status: JobStatus; n: number }>;
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  async claimNext({ owner, leaseMs, now }: Claim): Promise<{ before: Job; after: Job } | null> {
    return writeTransaction(this.db, () => {
      const row = this.statements.nextRunnable.get() as JobRow | undefined;
      if (!row) return null;
      const before = toJob(row);
      const lease = { owner, token: randomUUID(), expiresAt: now + leaseMs };
      const after = this.move(before, 'RUNNING', { stage: 'starting', attemptsIncrement: 1 }, null, now, { lease, startedAt: now });
      return after && { before, after };
    });
  }

  async transition(job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect, now: number): Promise<Job | null> {
    return writeTransaction(this.db, () => this.move(job, to, patch, effect, now));
  }

  /**
   * The move itself, inside the caller's transaction: the conditional update (out of RUNNING, only
   * under the lease `job` carries), the dataset change it implies, and the outbox rows announcing it.
   */
  private move(job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect, now: number, claim?: { lease: NonNullable<Job['lease']>; startedAt: number }): Job | null {
    if (job.status === 'RUNNING' && !job.lease) return null; // it holds no lease, so it may not move the job
    const { changes } = this.statements.transition.run({
      num: job.num,
      from: job.status,
      to,
      heldWith: job.status === 'RUNNING' ? job.lease!.token : null,
      leaseOwner: claim?.lease.owner ?? null,
      leaseToken: claim?.lease.token ?? null,
      leaseExpiresAt: claim?.lease.expiresAt ?? null,
      stage: patch.stage,
      setError: patch.error === undefined ? 0 : 1,
      errorCode: patch.error?.code ?? null,
      errorMessage: patch.error?.message ?? null,
      startedAt: claim?.startedAt ?? null,
      completedAt: patch.completedAt ?? null,
      publish: effect === 'publish' ? 1 : 0,
      attemptsIncrement: patch.attemptsIncrement ?? 0,
      fruitlessAttempts: patch.fruitlessAttempts ?? null,
      now,
    });
    if (changes !== 1) return null;
    // The effect counts what the store has, not what the caller's (maybe older) job object says.
    this.applyEffect(this.byNum(job.num)!, effect, now);
    const moved = this.byNum(job.num)!;
    const deliveries = outboxDeliveries({
      job: moved,
      startedBefore: job.startedAt !== null,
      datasetName: this.datasets.find(job.datasetId)!.name,
      endpoints: this.webhooks.endpointsOf(job.workspace),
      now,
    });
    for (const delivery of deliveries) this.webhooks.enqueue(delivery, now);
    return moved;
  }

  private applyEffect(job: Job, effect: DatasetEffect, now: number): void {
    if (effect === null) return;
    const rows = { written: job.progress.rowsWritten, inserted: rowsInserted(job) };
    if (effect === 'publish' && !job.options.dryRun) this.datasets.publishJobRows(job.datasetId, job.num, job.options.mode, rows, now);
    else this.datasets.abandonJobRows(job.datasetId, job.num, now);
    if (effect === 'startOver') {
      this.statements.resetProgress.run(job.num);
      this.statements.deleteIssues.run(job.num);
      this.statements.deleteRejectedRows.run(job.num);
    }
  }

  async requestCancel(num: number, leaseToken: string): Promise<Job | null> {
    const row = this.statements.requestCancel.get({ num, token: leaseToken }) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async renewLease(num: number, leaseToken: string, leaseMs: number, now: number): Promise<boolean> {
    return this.statements.renewLease.run({ num, token: leaseToken, leaseUntil: now + leaseMs, now }).changes === 1;
  }

  async withVoidLease(liveOwner: string, now: number): Promise<Job[]> {
    return (this.statements.withVoidLease.all({ owner: liveOwner, now }) as JobRow[]).map(toJob);
  }

  async issues(num: number, severity: IssueSeverity | null, limit: number, afterIndex: number): Promise<Array<Issue & { index: number }>> {
    const rows = this.statements.issues.all({ num, severity, after: afterIndex, limit }) as IssueRow[];
    return rows.map(toIssue);
  }

  async issueCount(num: number, severity: IssueSeverity | null): Promise<number> {
    return (this.statements.issueCount.get({ num, severity }) as { n: number }).n;
  }

  async rejectedRows(num: number, afterRow: number, limit: number): Promise<RejectedRow[]> {
    return this.statements.rejectedRows.all(num, afterRow, limit).map(toRejectedRow);
  }

  async deleteEnded(endedBefore: number, limit: number): Promise<Array<string | null>> {
    return writeTransaction(this.db, () => {
      const expired = this.statements.expired.all(endedBefore, limit) as Array<{ num: number; upload_key: string | null }>;
      for (const { num } of expired) {
        this.statements.deleteIssues.run(num);
        this.statements.deleteRejectedRows.run(num);
        this.statements.deleteDeliveries.run(num);
        this.statements.deleteJob.run(num);
      }
      if (expired.length > 0) this.datasets.dropUnused();
      return expired.map((job) => job.upload_key);
    });
  }

  async uploadKeys(includeEnded: boolean): Promise<Set<string>> {
    return new Set(this.statements.uploadKeys.all(includeEnded ? 1 : 0) as string[]);
  }
}
