import { dirname, join, relative } from 'node:path';
import { type Db, writeTransaction } from '../storage/sqlite';
import type { Issue, IssueSeverity, Job, JobStatus } from './model';
import type { JobFilter, JobStore, NewJob, ProgressUpdate, TransitionPatch } from './store';

interface JobRow {
  num: number;
  id: string;
  workspace: string;
  dataset_id: number;
  status: JobStatus;
  stage: string;
  file_name: string;
  file_format: Job['file']['format'];
  file_size: number;
  file_sha256: string;
  spool_path: string | null;
  options: string;
  processed_rows: number;
  total_rows: number | null;
  rows_written: number;
  rows_rejected: number;
  bytes_read: number;
  issue_errors: number;
  issue_warnings: number;
  messages: string;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  sequence: number;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  completed_at: number | null;
  idempotency_key: string | null;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  checkpoint: string | null;
  attempt_started_at: number | null;
  attempt_start_rows: number;
  attempt_start_bytes: number;
  fruitless_attempts: number;
}

function toJob(row: JobRow, dataDir: string): Job {
  return {
    num: row.num,
    id: row.id,
    workspace: row.workspace,
    datasetId: row.dataset_id,
    status: row.status,
    stage: row.stage,
    file: { name: row.file_name, format: row.file_format, size: row.file_size, sha256: row.file_sha256 },
    spoolPath: row.spool_path === null ? null : join(dataDir, row.spool_path),
    options: JSON.parse(row.options),
    progress: {
      processedRows: row.processed_rows,
      totalRows: row.total_rows,
      rowsWritten: row.rows_written,
      rowsRejected: row.rows_rejected,
      bytesRead: row.bytes_read,
      issueErrors: row.issue_errors,
      issueWarnings: row.issue_warnings,
    },
    messages: JSON.parse(row.messages),
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    attempts: row.attempts,
    fruitlessAttempts: row.fruitless_attempts,
    attempt: row.attempt_started_at === null ? null : { startedAt: row.attempt_started_at, rows: row.attempt_start_rows, bytes: row.attempt_start_bytes },
    lease: row.lease_token === null ? null : { owner: row.lease_owner!, token: row.lease_token, expiresAt: row.lease_expires_at! },
    checkpoint: row.checkpoint === null ? null : JSON.parse(row.checkpoint),
    sequence: row.sequence,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    idempotencyKey: row.idempotency_key,
  };
}

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

export class SqliteJobStore implements JobStore {
  private readonly statements;
  /** Spool paths are stored relative to the data directory, the database's own folder: a moved directory keeps them. */
  private readonly dataDir: string;

  constructor(private readonly db: Db) {
    this.dataDir = dirname(db.name);
    this.statements = {
      insert: db.prepare(`
        INSERT INTO jobs (id, workspace, dataset_id, status, stage, file_name, file_format, file_size, file_sha256,
                          spool_path, options, created_at, updated_at, idempotency_key)
        VALUES (@id, @workspace, @datasetId, 'PENDING', 'queued', @fileName, @fileFormat, @fileSize, @fileSha256,
                @spoolPath, @options, @now, @now, @idempotencyKey)`),
      byId: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      byNum: db.prepare('SELECT * FROM jobs WHERE num = ?'),
      byKey: db.prepare('SELECT * FROM jobs WHERE workspace = ? AND idempotency_key = ?'),
      nextRunnable: db.prepare(`
        SELECT * FROM jobs WHERE status = 'PENDING'
          AND dataset_id NOT IN (SELECT dataset_id FROM jobs WHERE status = 'RUNNING')
        ORDER BY num LIMIT 1`),
      withVoidLease: db.prepare(`
        SELECT * FROM jobs WHERE status = 'RUNNING' AND (lease_owner IS NOT @owner OR lease_expires_at < @now) ORDER BY num`),
      // The lease is held exactly while RUNNING: a move there sets it, any other move drops it.
      transition: db.prepare(`
        UPDATE jobs SET status = @to, stage = @stage,
          lease_owner = @leaseOwner, lease_token = @leaseToken, lease_expires_at = @leaseExpiresAt,
          error_code = CASE WHEN @setError THEN @errorCode ELSE error_code END,
          error_message = CASE WHEN @setError THEN @errorMessage ELSE error_message END,
          started_at = COALESCE(started_at, @startedAt),
          attempt_started_at = COALESCE(@startedAt, attempt_started_at),
          attempt_start_rows = CASE WHEN @startedAt IS NULL THEN attempt_start_rows ELSE processed_rows END,
          attempt_start_bytes = CASE WHEN @startedAt IS NULL THEN attempt_start_bytes ELSE bytes_read END,
          fruitless_attempts = COALESCE(@fruitlessAttempts, fruitless_attempts),
          completed_at = COALESCE(@completedAt, completed_at),
          total_rows = COALESCE(@totalRows, total_rows),
          attempts = attempts + @attemptsIncrement,
          sequence = sequence + 1, updated_at = @now
        WHERE num = @num AND status = @from AND (@heldWith IS NULL OR lease_token = @heldWith)`),
      progress: db.prepare(`
        UPDATE jobs SET processed_rows = @processedRows, total_rows = @totalRows, rows_written = @rowsWritten,
          rows_rejected = @rowsRejected, bytes_read = @bytesRead, issue_errors = @issueErrors,
          issue_warnings = @issueWarnings, stage = COALESCE(@stage, stage),
          messages = CASE WHEN @messages IS NULL THEN messages ELSE json_patch(messages, @messages) END,
          checkpoint = COALESCE(@checkpoint, checkpoint), lease_expires_at = @leaseUntil,
          sequence = sequence + 1, updated_at = @now
        WHERE num = @num AND status = 'RUNNING' AND lease_token = @token`),
      resetProgress: db.prepare(`
        UPDATE jobs SET processed_rows = 0, total_rows = NULL, rows_written = 0, rows_rejected = 0, bytes_read = 0,
          issue_errors = 0, issue_warnings = 0 WHERE num = ?`),
      holdsLease: db.prepare(`SELECT 1 FROM jobs WHERE num = ? AND status = 'RUNNING' AND lease_token = ?`).pluck(),
      renewLease: db.prepare(`
        UPDATE jobs SET lease_expires_at = @leaseUntil, sequence = sequence + 1, updated_at = @now
        WHERE num = @num AND status = 'RUNNING' AND lease_token = @token`),
      deleteIssues: db.prepare('DELETE FROM job_issues WHERE job_num = ?'),
      insertIssue: db.prepare(`
        INSERT INTO job_issues (job_num, idx, severity, code, message, row, column_name, value)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      issues: db.prepare(`
        SELECT idx, severity, code, message, row, column_name, value FROM job_issues
        WHERE job_num = @num AND (@severity IS NULL OR severity = @severity) AND idx > @after
        ORDER BY idx LIMIT @limit`),
      expired: db.prepare(`SELECT num, spool_path FROM jobs WHERE completed_at < ? AND status IN ('COMPLETED', 'FAILED', 'CANCELLED') LIMIT ?`),
      spoolPaths: db.prepare(`SELECT spool_path FROM jobs WHERE spool_path IS NOT NULL AND (? OR status IN ('PENDING', 'RUNNING'))`).pluck(),
      deleteDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE job_num = ?'),
      deleteJob: db.prepare('DELETE FROM jobs WHERE num = ?'),
      issueCount: db.prepare(`SELECT count(*) AS n FROM job_issues WHERE job_num = @num AND (@severity IS NULL OR severity = @severity)`),
    };
  }

  insert(job: NewJob): Job {
    const { lastInsertRowid } = this.statements.insert.run({
      id: job.id,
      workspace: job.workspace,
      datasetId: job.datasetId,
      fileName: job.file.name,
      fileFormat: job.file.format,
      fileSize: job.file.size,
      fileSha256: job.file.sha256,
      spoolPath: relative(this.dataDir, job.spoolPath),
      options: JSON.stringify(job.options),
      now: job.now,
      idempotencyKey: job.idempotencyKey,
    });
    return this.getByNum(Number(lastInsertRowid))!;
  }

  get(id: string): Job | null {
    const row = this.statements.byId.get(id) as JobRow | undefined;
    return row ? toJob(row, this.dataDir) : null;
  }

  getByNum(num: number): Job | null {
    const row = this.statements.byNum.get(num) as JobRow | undefined;
    return row ? toJob(row, this.dataDir) : null;
  }

  findByIdempotencyKey(workspace: string, key: string): Job | null {
    const row = this.statements.byKey.get(workspace, key) as JobRow | undefined;
    return row ? toJob(row, this.dataDir) : null;
  }

  list(filter: JobFilter, limit: number, beforeNum?: number): Job[] {
    const { where, params } = filterSql(filter);
    const before = beforeNum === undefined ? '' : ' AND num < ?';
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE ${where}${before} ORDER BY num DESC LIMIT ?`)
      .all(...params, ...(beforeNum === undefined ? [] : [beforeNum]), limit) as JobRow[];
    return rows.map((row) => toJob(row, this.dataDir));
  }

  count(filter: JobFilter): number {
    const { where, params } = filterSql(filter);
    return (this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE ${where}`).get(...params) as { n: number }).n;
  }

  nextRunnable(): Job | null {
    const row = this.statements.nextRunnable.get() as JobRow | undefined;
    return row ? toJob(row, this.dataDir) : null;
  }

  withVoidLease(liveOwner: string, now: number): Job[] {
    return (this.statements.withVoidLease.all({ owner: liveOwner, now }) as JobRow[]).map((row) => toJob(row, this.dataDir));
  }

  transition(num: number, from: JobStatus, to: JobStatus, patch: TransitionPatch, now: number, leaseToken?: string): boolean {
    const { changes } = this.statements.transition.run({
      num,
      from,
      to,
      heldWith: leaseToken ?? null,
      leaseOwner: patch.lease?.owner ?? null,
      leaseToken: patch.lease?.token ?? null,
      leaseExpiresAt: patch.lease?.expiresAt ?? null,
      stage: patch.stage,
      setError: patch.error === undefined ? 0 : 1,
      errorCode: patch.error?.code ?? null,
      errorMessage: patch.error?.message ?? null,
      startedAt: patch.startedAt ?? null,
      completedAt: patch.completedAt ?? null,
      totalRows: patch.totalRows ?? null,
      attemptsIncrement: patch.attemptsIncrement ?? 0,
      fruitlessAttempts: patch.fruitlessAttempts ?? null,
      now,
    });
    return changes === 1;
  }

  recordProgress(num: number, leaseToken: string, update: ProgressUpdate, leaseUntil: number, now: number): boolean {
    const { changes } = this.statements.progress.run({
      num,
      token: leaseToken,
      ...update.counters,
      stage: update.stage ?? null,
      messages: update.messages ? JSON.stringify(update.messages) : null,
      checkpoint: update.checkpoint ? JSON.stringify(update.checkpoint) : null,
      leaseUntil,
      now,
    });
    return changes === 1;
  }

  resetProgress(num: number): void {
    this.statements.resetProgress.run(num);
    this.statements.deleteIssues.run(num);
  }

  /** Whether the attempt of this lease still runs the job: the fence checked first in each of its write transactions. */
  holdsLease(num: number, leaseToken: string): boolean {
    return this.statements.holdsLease.get(num, leaseToken) !== undefined;
  }

  renewLease(num: number, leaseToken: string, leaseUntil: number, now: number): boolean {
    return this.statements.renewLease.run({ num, token: leaseToken, leaseUntil, now }).changes === 1;
  }

  appendIssues(num: number, firstIndex: number, issues: readonly Issue[]): void {
    issues.forEach((issue, i) => {
      this.statements.insertIssue.run(num, firstIndex + i, issue.severity, issue.code, issue.message, issue.row, issue.column, issue.value);
    });
  }

  issues(num: number, severity: IssueSeverity | null, limit: number, afterIndex: number): Array<Issue & { index: number }> {
    const rows = this.statements.issues.all({ num, severity, after: afterIndex, limit }) as Array<{
      idx: number;
      severity: IssueSeverity;
      code: string;
      message: string;
      row: number | null;
      column_name: string | null;
      value: string | null;
    }>;
    return rows.map((r) => ({ index: r.idx, severity: r.severity, code: r.code, message: r.message, row: r.row, column: r.column_name, value: r.value }));
  }

  deleteEnded(endedBefore: number, limit: number): Array<string | null> {
    return writeTransaction(this.db, () => {
      const expired = this.statements.expired.all(endedBefore, limit) as Array<{ num: number; spool_path: string | null }>;
      for (const { num } of expired) {
        this.statements.deleteIssues.run(num);
        this.statements.deleteDeliveries.run(num);
        this.statements.deleteJob.run(num);
      }
      return expired.map((job) => job.spool_path && join(this.dataDir, job.spool_path));
    });
  }

  spoolPaths(includeEnded: boolean): Set<string> {
    return new Set((this.statements.spoolPaths.all(includeEnded ? 1 : 0) as string[]).map((path) => join(this.dataDir, path)));
  }

  issueCount(num: number, severity: IssueSeverity | null): number {
    return (this.statements.issueCount.get({ num, severity }) as { n: number }).n;
  }
}
