// The operations the dashboard sends, with the shapes of their answers (schema.graphql).
import type { UserError } from './api';

export const STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof STATUSES)[number];
export const PAGE_SIZE = 50;

export interface Progress {
  percent: number;
  processedRows: number;
  rowsWritten: number;
  rowsRejected: number;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  totalRows: number | null;
  bytesRead: number;
  totalBytes: number;
}

export interface JobSummary {
  id: string;
  status: JobStatus;
  stage: string;
  stalled: boolean;
  sequence: number;
  createdAt: string;
  dryRun: boolean;
  dataset: { name: string };
  progress: Progress;
}

export interface JobDetail extends JobSummary {
  startedAt: string | null;
  completedAt: string | null;
  attempts: number;
  file: { name: string; size: number; format: string };
  error: { code: string; message: string } | null;
  messages: Array<{ key: string; value: string }>;
  issueCounts: { errors: number; warnings: number };
  rejectedRowsUrl: string | null;
  result: { rowsInserted: number; rowsUpdated: number; rowsUnchanged: number } | null;
}

export interface Issue {
  row: number | null;
  column: string | null;
  code: string;
  message: string;
  value: string | null;
  severity: 'ERROR' | 'WARNING';
}

export interface Delivery {
  id: string;
  url: string;
  event: string;
  delivered: boolean;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

export interface Column {
  name: string;
  type: string;
  required: boolean;
  unique: boolean;
}

export interface DatasetSummary {
  name: string;
  rowCount: number;
  updatedAt: string;
  columns: Column[];
}

export interface Page<T> {
  totalCount: number;
  edges: Array<{ node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface Payload {
  userErrors: UserError[];
}

const PROGRESS = 'progress { percent processedRows rowsWritten rowsRejected rowsPerSecond etaSeconds totalRows bytesRead totalBytes }';
const SUMMARY = `id status stage stalled sequence createdAt dryRun dataset { name } ${PROGRESS}`;
const DETAIL = `${SUMMARY} startedAt completedAt attempts file { name size format } error { code message } messages { key value } issueCounts { errors warnings } rejectedRowsUrl result { rowsInserted rowsUpdated rowsUnchanged }`;
const DELIVERY = 'id url event delivered attempts lastStatusCode lastError nextAttemptAt';
const PAGE_INFO = 'pageInfo { hasNextPage endCursor }';
const USER_ERRORS = 'userErrors { code field message }';

/** Whether the key works (and whether one is needed at all). */
export const PROBE = '{ jobs(first: 1) { totalCount } }';

export const JOBS = `query Jobs($status: [JobStatus!], $after: String) {
  jobs(first: ${PAGE_SIZE}, status: $status, after: $after) { edges { node { ${SUMMARY} } } ${PAGE_INFO} }
}`;
export type JobsAnswer = { jobs: Page<JobSummary> };

export const JOB_UPDATES = `subscription JobUpdates { jobUpdates { ${SUMMARY} } }`;
export type JobUpdatesEvent = { jobUpdates: JobSummary };

export const INGEST = `mutation Ingest($input: IngestInput!) { ingest(input: $input) { job { ${SUMMARY} } ${USER_ERRORS} } }`;
export type IngestAnswer = { ingest: Payload & { job: JobSummary | null } };

export const JOB = `query Job($id: ID!) { job(id: $id) { ${DETAIL} } }`;
export type JobAnswer = { job: JobDetail | null };

export const JOB_PROGRESS = `subscription JobProgress($id: ID!, $after: Int) { jobProgress(id: $id, afterSequence: $after) { ${DETAIL} } }`;
export type JobProgressEvent = { jobProgress: JobDetail };

export const CANCEL = `mutation Cancel($id: ID!) { cancelJob(id: $id) { job { ${DETAIL} } ${USER_ERRORS} } }`;
export type CancelAnswer = { cancelJob: Payload & { job: JobDetail | null } };

export const ISSUES = `query Issues($id: ID!, $after: String) {
  job(id: $id) { issues(first: ${PAGE_SIZE}, after: $after) { totalCount edges { node { row column code message value severity } } ${PAGE_INFO} } }
}`;
export type IssuesAnswer = { job: { issues: Page<Issue> } | null };

export const DELIVERIES = `query Deliveries($id: ID!) { job(id: $id) { webhookDeliveries { ${DELIVERY} } } }`;
export type DeliveriesAnswer = { job: { webhookDeliveries: Delivery[] } | null };

export const REDELIVER = `mutation Redeliver($id: ID!) { redeliverWebhook(deliveryId: $id) { delivery { ${DELIVERY} } ${USER_ERRORS} } }`;
export type RedeliverAnswer = { redeliverWebhook: Payload & { delivery: Delivery | null } };

export const DATASETS = `query Datasets { datasets { name rowCount updatedAt columns { name type required unique } } }`;
export type DatasetsAnswer = { datasets: DatasetSummary[] };

export const DATASET = `query Dataset($name: String!, $after: String) {
  dataset(name: $name) { name rowCount updatedAt columns { name type required unique } rows(first: ${PAGE_SIZE}, after: $after) { totalCount edges { node { row values } } ${PAGE_INFO} } }
}`;
export type DatasetAnswer = { dataset: (DatasetSummary & { rows: Page<{ row: number; values: Record<string, unknown> }> }) | null };
