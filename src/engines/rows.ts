import type { ApiKeyRecord } from '../auth/api-key';
import type { Checkpoint, Job, JobOptions, JobStatus } from '../jobs/model';
import type { Delivery } from '../webhooks/model';

/**
 * Rows of the tables every engine has, with the same columns whatever the engine (see each engine's
 * schema), and what they stand for. JSON columns come decoded: an engine that stores them as text
 * parses them before mapping.
 */

/** A row of `jobs`, its JSON columns decoded (the engine's driver, or the engine, decodes them). */
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
  options: JobOptions;
  processed_rows: number;
  total_rows: number | null;
  rows_written: number;
  rows_rejected: number;
  bytes_read: number;
  issue_errors: number;
  issue_warnings: number;
  messages: Record<string, string>;
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
  checkpoint: Checkpoint | null;
  attempt_started_at: number | null;
  attempt_start_rows: number;
  attempt_start_bytes: number;
  fruitless_attempts: number;
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
    options: row.options,
    progress: {
      processedRows: row.processed_rows,
      totalRows: row.total_rows,
      rowsWritten: row.rows_written,
      rowsRejected: row.rows_rejected,
      bytesRead: row.bytes_read,
      issueErrors: row.issue_errors,
      issueWarnings: row.issue_warnings,
    },
    messages: row.messages,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    attempts: row.attempts,
    fruitlessAttempts: row.fruitless_attempts,
    attempt: row.attempt_started_at === null ? null : { startedAt: row.attempt_started_at, rows: row.attempt_start_rows, bytes: row.attempt_start_bytes },
    lease: row.lease_token === null ? null : { owner: row.lease_owner!, token: row.lease_token, expiresAt: row.lease_expires_at! },
    checkpoint: row.checkpoint,
    sequence: row.sequence,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
    idempotencyKey: row.idempotency_key,
  };
}

export interface DeliveryRow {
  id: string;
  job_num: number;
  workspace: string;
  endpoint_id: string | null;
  url: string;
  event: string;
  payload: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  next_attempt_at: number | null;
  created_at: number;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    jobNum: row.job_num,
    workspace: row.workspace,
    endpointId: row.endpoint_id,
    url: row.url,
    event: row.event,
    payload: row.payload,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
  };
}

export interface ApiKeyRow {
  id: string;
  workspace: string;
  name: string | null;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export const toKeyRecord = (row: ApiKeyRow): ApiKeyRecord => ({ id: row.id, workspace: row.workspace, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at });
