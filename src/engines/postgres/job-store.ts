import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type IssueRow, type JobRow, type RejectedRowRecord, toIssue, toJob, toRejectedRow } from '../shared/job-record';
import { type Issue, type IssueSeverity, type Job, type JobStatus, type RejectedRow, rowsInserted } from '../../jobs/model';
import type { Claim, DatasetEffect, JobFilter, JobStore, NewJob, NewJobDataset, TransitionPatch, WorkspaceLoad } from '../../ports/job-store';
import { outboxDeliveries } from '../../webhooks/outbox';
import { DB_NOW_MS, type Pool, transaction, tryWorkLock } from './database';
import { abandonJobRows, confirmDataset, dropUnusedDatasets, findDataset, findDatasetByName, insertDataset, publishJobRows } from './dataset-steps';
import type { PgDatasetStore } from './dataset-store';
import { Params } from './dataset-tables';
import { type ClaimPart, filterSql, insertJob, jobByKey, jobByNum, moveJob, resetProgress } from './job-rows';
import { endpointsOf, enqueueDelivery } from './outbox-rows';

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const { code, constraint: violated } = error as { code?: string; constraint?: string };
  return code === UNIQUE_VIOLATION && violated === constraint;
}

/**
 * The job store on PostgreSQL: each port method is one transaction. A move is a conditional UPDATE
 * (status and lease token), its dataset effect and its outbox rows, committed together.
 */
export class PgJobStore implements JobStore {
  constructor(
    private readonly pool: Pool,
    // Kept for the Engine's wiring: the dataset steps run on the transaction's own connection.
    readonly datasets: PgDatasetStore,
    readonly webhooks: unknown,
    /** How long an instance may go without renewing its registration before its leases are void. */
    private readonly staleMs: number,
  ) {}

  async create(job: NewJob, dataset: NewJobDataset, admit: (load: WorkspaceLoad) => void): Promise<{ job: Job; created: boolean }> {
    try {
      return await transaction(this.pool, (db) => this.createIn(db, job, dataset, admit));
    } catch (error) {
      // Two creates with one key can only race past the lock if the key's job was made elsewhere: the earlier one wins.
      if (job.idempotencyKey === null || !isUniqueViolation(error, 'jobs_workspace_idempotency_key_key')) throw error;
      const earlier = await this.findByIdempotencyKey(job.workspace, job.idempotencyKey);
      if (!earlier) throw error;
      return { job: earlier, created: false };
    }
  }

  /** Under the workspace's advisory lock, so that `admit` sees a load no concurrent create can change before this one commits. */
  private async createIn(db: pg.ClientBase, job: NewJob, dataset: NewJobDataset, admit: (load: WorkspaceLoad) => void): Promise<{ job: Job; created: boolean }> {
    await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [job.workspace]);
    const earlier = job.idempotencyKey === null ? null : await jobByKey(db, job.workspace, job.idempotencyKey);
    if (earlier) return { job: earlier, created: false };
    const { rows } = await db.query<WorkspaceLoad>(
      `SELECT count(*)::integer AS "activeJobs", coalesce(sum(file_size), 0)::bigint AS "queuedBytes"
       FROM jobs WHERE workspace = $1 AND status IN ('PENDING', 'RUNNING')`,
      [job.workspace],
    );
    admit(rows[0]);
    return { job: await insertJob(db, job, await this.datasetFor(db, job, dataset)), created: true };
  }

  /** The job's dataset: created with it when new (provisional for a dry run), confirmed when a real job names a provisional one. */
  private async datasetFor(db: pg.ClientBase, job: NewJob, dataset: NewJobDataset): Promise<number> {
    const found = await findDatasetByName(db, job.workspace, dataset.name);
    if (!found) return (await insertDataset(db, job.workspace, dataset.name, dataset.columns, job.options.dryRun, job.now)).id;
    if (found.provisional && !job.options.dryRun) await confirmDataset(db, found.id);
    return found.id;
  }

  async get(id: string): Promise<Job | null> {
    const { rows } = await this.pool.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async getByNum(num: number): Promise<Job | null> {
    return jobByNum(this.pool, num);
  }

  async findByIdempotencyKey(workspace: string, key: string): Promise<Job | null> {
    return jobByKey(this.pool, workspace, key);
  }

  async list(filter: JobFilter, limit: number, beforeNum?: number): Promise<Job[]> {
    const params = new Params();
    const where = filterSql(filter, params);
    const before = beforeNum === undefined ? '' : ` AND num < ${params.add(beforeNum)}`;
    const { rows } = await this.pool.query<JobRow>(`SELECT * FROM jobs WHERE ${where}${before} ORDER BY num DESC LIMIT ${params.add(limit)}`, params.values);
    return rows.map(toJob);
  }

  async count(filter: JobFilter): Promise<number> {
    const params = new Params();
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*)::integer AS n FROM jobs WHERE ${filterSql(filter, params)}`, params.values);
    return rows[0].n;
  }

  async countByStatus(): Promise<Partial<Record<JobStatus, number>>> {
    const { rows } = await this.pool.query<{ status: JobStatus; n: number }>('SELECT status, count(*)::integer AS n FROM jobs GROUP BY status');
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  /**
   * Locks the oldest PENDING job whose dataset has no RUNNING job, skipping those other claims hold
   * (one row at a time: a claim that locked several would keep the others from them), and moves it.
   * A concurrent claim of another job of the same dataset makes the move hit
   * `jobs_one_running_per_dataset`: that job is skipped (rolled back to a savepoint) and the next tried.
   */
  async claimNext({ owner, leaseMs, now }: Claim): Promise<{ before: Job; after: Job } | null> {
    return transaction(this.pool, async (db) => {
      const tried: number[] = [];
      for (let candidate = await this.nextCandidate(db, tried); candidate; candidate = await this.nextCandidate(db, tried)) {
        const claim = { lease: { owner, token: randomUUID(), expiresAt: now + leaseMs }, startedAt: now };
        const after = await this.tryClaim(db, candidate, claim, now);
        if (after) return { before: candidate, after };
        tried.push(candidate.num);
      }
      return null;
    });
  }

  private async nextCandidate(db: pg.ClientBase, tried: readonly number[]): Promise<Job | null> {
    const { rows } = await db.query<JobRow>(
      `SELECT * FROM jobs j WHERE status = 'PENDING' AND num <> ALL($1::bigint[])
         AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.dataset_id = j.dataset_id AND r.status = 'RUNNING')
       ORDER BY num LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [tried],
    );
    return rows[0] ? toJob(rows[0]) : null;
  }

  private async tryClaim(db: pg.ClientBase, before: Job, claim: ClaimPart, now: number): Promise<Job | null> {
    await db.query('SAVEPOINT claim');
    try {
      const after = await this.move(db, before, 'RUNNING', { stage: 'starting', attemptsIncrement: 1 }, null, now, claim);
      await db.query('RELEASE SAVEPOINT claim');
      return after;
    } catch (error) {
      if (!isUniqueViolation(error, 'jobs_one_running_per_dataset')) throw error;
      await db.query('ROLLBACK TO SAVEPOINT claim');
      return null;
    }
  }

  async transition(job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect, now: number): Promise<Job | null> {
    return transaction(this.pool, (db) => this.move(db, job, to, patch, effect, now));
  }

  /** The move inside the caller's transaction: the conditional update, the dataset change it implies, the outbox rows announcing it. */
  private async move(db: pg.ClientBase, job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect, now: number, claim?: ClaimPart): Promise<Job | null> {
    if (job.status === 'RUNNING' && !job.lease) return null; // it holds no lease, so it may not move the job
    const updated = await moveJob(db, job, to, patch, effect, now, claim);
    if (!updated) return null;
    // The effect counts what the store has (the updated row), not what the caller's job object says.
    await this.applyEffect(db, updated, effect, now);
    const moved = effect === 'startOver' ? (await jobByNum(db, job.num))! : updated;
    const deliveries = outboxDeliveries({
      job: moved,
      startedBefore: job.startedAt !== null,
      datasetName: (await findDataset(db, job.datasetId))!.name,
      endpoints: await endpointsOf(db, job.workspace),
      now,
    });
    for (const delivery of deliveries) await enqueueDelivery(db, delivery, now);
    return moved;
  }

  private async applyEffect(db: pg.ClientBase, job: Job, effect: DatasetEffect, now: number): Promise<void> {
    if (effect === null) return;
    const rows = { written: job.progress.rowsWritten, inserted: rowsInserted(job) };
    if (effect === 'publish' && !job.options.dryRun) await publishJobRows(db, job.datasetId, job.num, job.options.mode, rows, now);
    else await abandonJobRows(db, job.datasetId, job.num, now);
    if (effect === 'startOver') await resetProgress(db, job.num);
  }

  async requestCancel(num: number, leaseToken: string): Promise<Job | null> {
    const { rows } = await this.pool.query<JobRow>(
      `UPDATE jobs SET cancel_requested = true WHERE num = $1 AND status = 'RUNNING' AND lease_token = $2 RETURNING *`,
      [num, leaseToken],
    );
    return rows[0] ? toJob(rows[0]) : null;
  }

  async renewLease(num: number, leaseToken: string, leaseMs: number, now: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE jobs SET lease_expires_at = $3, sequence = sequence + 1, updated_at = $4
       WHERE num = $1 AND status = 'RUNNING' AND lease_token = $2`,
      [num, leaseToken, now + leaseMs, now],
    );
    return rowCount === 1;
  }

  async withVoidLease(liveOwner: string, now: number): Promise<Job[]> {
    const { rows } = await this.pool.query<JobRow>(
      `SELECT * FROM jobs j WHERE status = 'RUNNING' AND (lease_expires_at < $2 OR (lease_owner IS DISTINCT FROM $1
         AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = j.lease_owner AND i.seen_at >= ${DB_NOW_MS} - $3::bigint)))
       ORDER BY num`,
      [liveOwner, now, this.staleMs],
    );
    return rows.map(toJob);
  }

  async issues(num: number, severity: IssueSeverity | null, limit: number, afterIndex: number): Promise<Array<Issue & { index: number }>> {
    const { rows } = await this.pool.query<IssueRow>(
      `SELECT idx, severity, code, message, row, column_name, value FROM job_issues
       WHERE job_num = $1 AND ($2::text IS NULL OR severity = $2::text) AND idx > $3 ORDER BY idx LIMIT $4`,
      [num, severity, afterIndex, limit],
    );
    return rows.map(toIssue);
  }

  async issueCount(num: number, severity: IssueSeverity | null): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*)::integer AS n FROM job_issues WHERE job_num = $1 AND ($2::text IS NULL OR severity = $2::text)',
      [num, severity],
    );
    return rows[0].n;
  }

  async rejectedRows(num: number, afterRow: number, limit: number): Promise<RejectedRow[]> {
    const { rows } = await this.pool.query<RejectedRowRecord>(
      'SELECT row, errors, cells FROM job_rejected_rows WHERE job_num = $1 AND row > $2 ORDER BY row LIMIT $3',
      [num, afterRow, limit],
    );
    return rows.map(toRejectedRow);
  }

  async deleteEnded(endedBefore: number, limit: number): Promise<Array<string | null>> {
    return transaction(this.pool, async (db) => {
      if (!(await tryWorkLock(db, 'retention'))) return []; // another instance is deleting expired jobs
      const { rows } = await db.query<{ num: number; upload_key: string | null }>(
        `SELECT num, upload_key FROM jobs WHERE completed_at < $1 AND status IN ('COMPLETED', 'FAILED', 'CANCELLED')
         ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [endedBefore, limit],
      );
      const nums = rows.map((row) => row.num);
      await db.query('DELETE FROM job_issues WHERE job_num = ANY($1::bigint[])', [nums]);
      await db.query('DELETE FROM job_rejected_rows WHERE job_num = ANY($1::bigint[])', [nums]);
      await db.query('DELETE FROM webhook_deliveries WHERE job_num = ANY($1::bigint[])', [nums]);
      await db.query('DELETE FROM jobs WHERE num = ANY($1::bigint[])', [nums]);
      if (nums.length > 0) await dropUnusedDatasets(db);
      return rows.map((row) => row.upload_key);
    });
  }

  async uploadKeys(includeEnded: boolean): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ upload_key: string }>(
      `SELECT upload_key FROM jobs WHERE upload_key IS NOT NULL AND ($1::boolean OR status IN ('PENDING', 'RUNNING'))`,
      [includeEnded],
    );
    return new Set(rows.map((row) => row.upload_key));
  }
}
