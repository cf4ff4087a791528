import type { Db } from './database';

import type { RejectedRowRecord } from '../shared/job-record';

export { type JobRow, toJob } from '../shared/job-record';

/** The statements on `jobs` and `job_issues`, prepared once per connection. */
export function jobStatements(db: Db) {
  return {
    insert: db.prepare(`
      INSERT INTO jobs (id, workspace, dataset_id, status, stage, file_name, file_format, file_size, file_sha256,
                        upload_key, options, created_at, updated_at, idempotency_key)
      VALUES (@id, @workspace, @datasetId, 'PENDING', 'queued', @fileName, @fileFormat, @fileSize, @fileSha256,
              @upload, @options, @now, @now, @idempotencyKey)`),
    byId: db.prepare('SELECT * FROM jobs WHERE id = ?'),
    byNum: db.prepare('SELECT * FROM jobs WHERE num = ?'),
    byKey: db.prepare('SELECT * FROM jobs WHERE workspace = ? AND idempotency_key = ?'),
    load: db.prepare(`SELECT count(*) AS activeJobs, coalesce(sum(file_size), 0) AS queuedBytes FROM jobs WHERE workspace = ? AND status IN ('PENDING', 'RUNNING')`),
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
        instance = COALESCE(@leaseOwner, instance),
        error_code = CASE WHEN @setError THEN @errorCode ELSE error_code END,
        error_message = CASE WHEN @setError THEN @errorMessage ELSE error_message END,
        started_at = COALESCE(started_at, @startedAt),
        attempt_started_at = COALESCE(@startedAt, attempt_started_at),
        attempt_start_rows = CASE WHEN @startedAt IS NULL THEN attempt_start_rows ELSE processed_rows END,
        attempt_start_bytes = CASE WHEN @startedAt IS NULL THEN attempt_start_bytes ELSE bytes_read END,
        fruitless_attempts = COALESCE(@fruitlessAttempts, fruitless_attempts),
        completed_at = COALESCE(@completedAt, completed_at),
        total_rows = CASE WHEN @publish THEN processed_rows ELSE total_rows END,
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
    requestCancel: db.prepare(`
      UPDATE jobs SET cancel_requested = 1 WHERE num = @num AND status = 'RUNNING' AND lease_token = @token RETURNING *`),
    renewLease: db.prepare(`
      UPDATE jobs SET lease_expires_at = @leaseUntil, sequence = sequence + 1, updated_at = @now
      WHERE num = @num AND status = 'RUNNING' AND lease_token = @token`),
    expired: db.prepare(`SELECT num, upload_key FROM jobs WHERE completed_at < ? AND status IN ('COMPLETED', 'FAILED', 'CANCELLED') LIMIT ?`),
    uploadKeys: db.prepare(`SELECT upload_key FROM jobs WHERE upload_key IS NOT NULL AND (? OR status IN ('PENDING', 'RUNNING'))`).pluck(),
    deleteDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE job_num = ?'),
    deleteJob: db.prepare('DELETE FROM jobs WHERE num = ?'),
  };
}

/** The statements on `job_issues` and `job_rejected_rows`. */
export function issueStatements(db: Db) {
  return {
    deleteIssues: db.prepare('DELETE FROM job_issues WHERE job_num = ?'),
    deleteRejectedRows: db.prepare('DELETE FROM job_rejected_rows WHERE job_num = ?'),
    insertRejectedRow: db.prepare('INSERT INTO job_rejected_rows (job_num, row, errors, cells) VALUES (?, ?, ?, ?)'),
    rejectedRows: db.prepare<[number, number, number], RejectedRowRecord>('SELECT row, errors, cells FROM job_rejected_rows WHERE job_num = ? AND row > ? ORDER BY row LIMIT ?'),
    insertIssue: db.prepare(`
      INSERT INTO job_issues (job_num, idx, severity, code, message, row, column_name, value)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    issues: db.prepare(`
      SELECT idx, severity, code, message, row, column_name, value FROM job_issues
      WHERE job_num = @num AND (@severity IS NULL OR severity = @severity) AND idx > @after
      ORDER BY idx LIMIT @limit`),
    issueCount: db.prepare(`SELECT count(*) AS n FROM job_issues WHERE job_num = @num AND (@severity IS NULL OR severity = @severity)`),
  };
}
