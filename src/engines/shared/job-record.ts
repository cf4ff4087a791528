import { specsOf } from '../../datasets/columns';
import type { Checkpoint, Issue, IssueSeverity, Job, JobOptions, JobStatus, RejectedRow } from '../../jobs/model';

/** A JSON column as an engine reads it: text (SQLite) or already parsed (PostgreSQL's jsonb). */
export function decodeJson<T>(value: string | T): T {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** A row of `jobs`, as every engine stores it. */
export interface JobRow {
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
  upload_key: string | null;
  options: string | JobOptions;
  processed_rows: number;
  total_rows: number | null;
  rows_written: number;
  rows_rejected: number;
  bytes_read: number;
  issue_errors: number;
  issue_warnings: number;
  messages: string | Record<string, string>;
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
  instance: string | null;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  cancel_requested: number | boolean;
  lease_token: string | null;
  lease_expires_at: number | null;
  checkpoint: string | Checkpoint | null;
  attempt_started_at: number | null;
  attempt_start_rows: number;
  attempt_start_bytes: number;
  fruitless_attempts: number;
}

/** A job's options as stored: those of a job created before an option existed get its default. */
type StoredOptions = Partial<JobOptions> & Omit<JobOptions, 'nullValues' | 'skipRows' | 'dryRun' | 'key'>;

function withOptionDefaults(stored: StoredOptions): JobOptions {
  const defaults = { nullValues: stored.nullValues ?? [], skipRows: stored.skipRows ?? 0, dryRun: stored.dryRun ?? false, key: stored.key ?? null };
  return { ...stored, ...defaults, columns: stored.columns && specsOf(stored.columns) };
}

export function toJob(row: JobRow): Job {
  return {
    num: row.num,
    id: row.id,
    workspace: row.workspace,
    datasetId: row.dataset_id,
    status: row.status,
    stage: row.stage,
    file: { name: row.file_name, format: row.file_format, size: row.file_size, sha256: row.file_sha256 },
    upload: row.upload_key,
    options: withOptionDefaults(decodeJson(row.options)),
    progress: {
      processedRows: row.processed_rows,
      totalRows: row.total_rows,
      rowsWritten: row.rows_written,
      rowsRejected: row.rows_rejected,
      bytesRead: row.bytes_read,
      issueErrors: row.issue_errors,
      issueWarnings: row.issue_warnings,
    },
    messages: decodeJson(row.messages),
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    attempts: row.attempts,
    fruitlessAttempts: row.fruitless_attempts,
    attempt: row.attempt_started_at === null ? null : { startedAt: row.attempt_started_at, rows: row.attempt_start_rows, bytes: row.attempt_start_bytes },
    lease: row.lease_token === null ? null : { owner: row.lease_owner!, token: row.lease_token, expiresAt: row.lease_expires_at! },
    instance: row.instance,
    cancelRequested: Boolean(row.cancel_requested),
    checkpoint: row.checkpoint === null ? null : decodeJson(row.checkpoint),
    sequence: row.sequence,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    idempotencyKey: row.idempotency_key,
  };
}

/** A row of `job_issues`. */
export interface IssueRow {
  idx: number;
  severity: IssueSeverity;
  code: string;
  message: string;
  row: number | null;
  column_name: string | null;
  value: string | null;
}

export function toIssue(r: IssueRow): Issue & { index: number } {
  return { index: r.idx, severity: r.severity, code: r.code, message: r.message, row: r.row, column: r.column_name, value: r.value };
}

/** A row of `job_rejected_rows`: its cells as a JSON array (text in SQLite, jsonb in PostgreSQL). */
export interface RejectedRowRecord {
  row: number;
  errors: string;
  cells: string | string[];
}

export function toRejectedRow(r: RejectedRowRecord): RejectedRow {
  return { row: Number(r.row), errors: r.errors, cells: decodeJson(r.cells) };
}
