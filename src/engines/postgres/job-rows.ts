import type pg from 'pg';
import { type JobRow, toJob } from '../shared/job-record';
import type { Issue, Job, JobStatus, RejectedRow } from '../../jobs/model';
import type { DatasetEffect, JobFilter, NewJob, TransitionPatch } from '../../ports/job-store';
import { Params } from './dataset-tables';

/** A transaction's connection, or the pool for a single statement. */
type Db = pg.ClientBase | pg.Pool;

export async function jobByNum(db: Db, num: number): Promise<Job | null> {
  const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE num = $1', [num]);
  return rows[0] ? toJob(rows[0]) : null;
}

export async function jobByKey(db: Db, workspace: string, key: string): Promise<Job | null> {
  const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE workspace = $1 AND idempotency_key = $2', [workspace, key]);
  return rows[0] ? toJob(rows[0]) : null;
}

export async function insertJob(db: Db, job: NewJob, datasetId: number): Promise<Job> {
  const { rows } = await db.query<JobRow>(
    `INSERT INTO jobs (id, workspace, dataset_id, status, stage, file_name, file_format, file_size, file_sha256,
                       upload_key, options, created_at, updated_at, idempotency_key)
     VALUES ($1, $2, $3, 'PENDING', 'queued', $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING *`,
    [job.id, job.workspace, datasetId, job.file.name, job.file.format, job.file.size, job.file.sha256, job.upload, JSON.stringify(job.options), job.now, job.idempotencyKey],
  );
  return toJob(rows[0]);
}

export function filterSql(filter: JobFilter, params: Params): string {
  const clauses = [`workspace = ${params.add(filter.workspace)}`];
  if (filter.statuses && filter.statuses.length > 0) clauses.push(`status = ANY(${params.add(filter.statuses)}::text[])`);
  if (filter.datasetId !== undefined) clauses.push(`dataset_id = ${params.add(filter.datasetId)}`);
  return clauses.join(' AND ');
}

/** What a claim sets beside the move: the new lease and the attempt's start. */
export interface ClaimPart {
  lease: NonNullable<Job['lease']>;
  startedAt: number;
}

// The lease is held exactly while RUNNING: a move there sets it, any other move drops it. Out of
// RUNNING, the move happens only under the lease the caller's job carries ($17).
const MOVE = `
  UPDATE jobs SET status = $3, stage = $4,
    lease_owner = $5, lease_token = $6, lease_expires_at = $7, instance = COALESCE($5, instance),
    error_code = CASE WHEN $8::boolean THEN $9::text ELSE error_code END,
    error_message = CASE WHEN $8::boolean THEN $10::text ELSE error_message END,
    started_at = COALESCE(started_at, $11::bigint),
    attempt_started_at = COALESCE($11::bigint, attempt_started_at),
    attempt_start_rows = CASE WHEN $11::bigint IS NULL THEN attempt_start_rows ELSE processed_rows END,
    attempt_start_bytes = CASE WHEN $11::bigint IS NULL THEN attempt_start_bytes ELSE bytes_read END,
    fruitless_attempts = COALESCE($12::integer, fruitless_attempts),
    completed_at = COALESCE($13::bigint, completed_at),
    total_rows = CASE WHEN $14::boolean THEN processed_rows ELSE total_rows END,
    attempts = attempts + $15::integer,
    sequence = sequence + 1, updated_at = $16
  WHERE num = $1 AND status = $2 AND ($17::text IS NULL OR lease_token = $17::text)
  RETURNING *`;

/** The conditional update of a move; the job as it is after it, or null when the job was not as `job` says. */
export async function moveJob(db: Db, job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect, now: number, claim?: ClaimPart): Promise<Job | null> {
  const { rows } = await db.query<JobRow>(MOVE, [
    job.num,
    job.status,
    to,
    patch.stage,
    claim?.lease.owner ?? null,
    claim?.lease.token ?? null,
    claim?.lease.expiresAt ?? null,
    patch.error !== undefined,
    patch.error?.code ?? null,
    patch.error?.message ?? null,
    claim?.startedAt ?? null,
    patch.fruitlessAttempts ?? null,
    patch.completedAt ?? null,
    effect === 'publish',
    patch.attemptsIncrement ?? 0,
    now,
    job.status === 'RUNNING' ? job.lease!.token : null,
  ]);
  return rows[0] ? toJob(rows[0]) : null;
}

/** Forgets the counters, issues and rejected rows of a job whose next attempt starts over. */
export async function resetProgress(db: Db, num: number): Promise<void> {
  await db.query(`
    UPDATE jobs SET processed_rows = 0, total_rows = NULL, rows_written = 0, rows_rejected = 0, bytes_read = 0,
      issue_errors = 0, issue_warnings = 0 WHERE num = $1`, [num]);
  await db.query('DELETE FROM job_issues WHERE job_num = $1', [num]);
  await db.query('DELETE FROM job_rejected_rows WHERE job_num = $1', [num]);
}

/** Writes rows with multi-row INSERTs, 1000 rows a statement (at 8 values a row, well under PostgreSQL's 65535 parameters). */
async function insertRows(db: Db, into: string, rows: readonly unknown[][]): Promise<void> {
  const PER_STATEMENT = 1000;
  for (let start = 0; start < rows.length; start += PER_STATEMENT) {
    const params = new Params();
    const tuples = rows.slice(start, start + PER_STATEMENT).map((values) => `(${values.map((value) => params.add(value)).join(', ')})`);
    await db.query(`INSERT INTO ${into} VALUES ${tuples.join(', ')}`, params.values);
  }
}

export async function insertIssues(db: Db, jobNum: number, firstIndex: number, issues: readonly Issue[]): Promise<void> {
  const rows = issues.map((issue, i) => [jobNum, firstIndex + i, issue.severity, issue.code, issue.message, issue.row, issue.column, issue.value]);
  await insertRows(db, 'job_issues (job_num, idx, severity, code, message, row, column_name, value)', rows);
}

export async function insertRejectedRows(db: Db, jobNum: number, rejects: readonly RejectedRow[]): Promise<void> {
  const rows = rejects.map((reject) => [jobNum, reject.row, reject.errors, JSON.stringify(reject.cells)]);
  await insertRows(db, 'job_rejected_rows (job_num, row, errors, cells)', rows);
}
