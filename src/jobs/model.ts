import type { ColumnSpec } from '../datasets/columns';

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FILE_FORMATS = ['CSV', 'XLSX'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export const INGEST_MODES = ['APPEND', 'REPLACE', 'UPSERT'] as const;
export type IngestMode = (typeof INGEST_MODES)[number];

export type IssueSeverity = 'ERROR' | 'WARNING';

export interface CsvOptions {
  delimiter: string | null; // null: detected from the header line
  quote: string;
  header: boolean;
  encoding: string;
}

/** What the caller asked for, fixed when the job is created. */
export interface JobOptions {
  columns: ColumnSpec[] | null; // null: inferred from the header and a sample of rows
  csv: CsvOptions;
  sheet: string | null;
  mode: IngestMode;
  maxErrors: number | null;
  /** Where the job's end is announced (a signed webhook), or null. */
  webhookUrl: string | null;
  /** Cell texts read as empty, besides the empty text. */
  nullValues: string[];
  /** Lines (CSV) or sheet rows (XLSX) before the header, not read as records. */
  skipRows: number;
  /** Validate and count only: the job's rows are never published, and a dataset it names anew is not created. */
  dryRun: boolean;
  /** The columns that identify a row (the dataset's key); null: the dataset's own, if it has one. */
  key: string[] | null;
}


export interface FileInfo {
  name: string;
  format: FileFormat;
  size: number;
  sha256: string;
}

export interface ProgressCounters {
  processedRows: number;
  totalRows: number | null;
  rowsWritten: number;
  rowsRejected: number;
  bytesRead: number;
  issueErrors: number;
  issueWarnings: number;
}

/** A RUNNING job's claim: every write of the attempt is fenced by `token`; it lapses at `expiresAt` unless renewed. */
export interface Lease {
  owner: string;
  token: string;
  expiresAt: number;
}

/**
 * Where a resumed attempt picks up. Committed in the transaction that writes the rows, issues and
 * counters it accounts for, so that whatever the crash point they agree.
 */
export interface Checkpoint {
  /** Row number of the next record to read (records, malformed ones included, are numbered in file order). */
  nextRow: number;
  /** Where that record starts in the file, when the source can seek there; null: re-read the file and skip to `nextRow`. */
  byteOffset: number | null;
  /** Whether the job's one EXTRA_CELLS warning has been noted already. */
  extraCellsNoted: boolean;
  /** Set when the attempt decided the job fails (TOO_MANY_ERRORS) in the same commit as the issues that explain it. */
  failure?: JobError;
  /** Issues stored so far (the next one's index; at most the per-job cap); absent from checkpoints written before issues were capped. */
  issuesStored?: number;
  /** Rejected rows kept for the rejected-rows file so far, and their cells' size; absent before the first one. */
  rejectsKept?: { rows: number; bytes: number };
  /** UPSERT: of the rows written so far, those whose key the dataset had, with other values or the same; absent before the first. */
  keyMatches?: KeyMatches;
}

/** UPSERT's rows whose key the dataset holds: `updated` (a value differs) and `unchanged`; the others of rowsWritten are inserted. */
export interface KeyMatches {
  updated: number;
  unchanged: number;
}

/** A rejected row as the file had it, for the job's rejected-rows file; row 0 holds the file's header names. */
export interface RejectedRow {
  /** 1-based data row number. */
  row: number;
  /** Its issues as one text. */
  errors: string;
  /** Its cells as read, as text. */
  cells: string[];
}

export interface AttemptStart {
  startedAt: number;
  rows: number;
  bytes: number;
}

export interface JobError {
  code: string;
  message: string;
}

export interface Job {
  num: number;
  id: string;
  workspace: string;
  datasetId: number;
  status: JobStatus;
  stage: string;
  file: FileInfo;
  /** The upload's key in the blob store (null: the job has none). */
  upload: string | null;
  options: JobOptions;
  progress: ProgressCounters;
  messages: Record<string, string>;
  error: JobError | null;
  /** Attempts started; a hand-over at a graceful stop gives its attempt back. */
  attempts: number;
  /** Attempts in a row interrupted without advancing the checkpoint: a job fails INTERRUPTED when they reach SLUICE_MAX_ATTEMPTS. */
  fruitlessAttempts: number;
  /** The running (or last) attempt: when it was claimed, and the rows and bytes the job had read by then. */
  attempt: AttemptStart | null;
  lease: Lease | null;
  /** The instance that runs, or last ran, the job (its lease owner at the last claim); null before its first claim. */
  instance: string | null;
  /** A cancel was asked while the job ran (perhaps on another instance): the instance running it ends it CANCELLED. */
  cancelRequested: boolean;
  checkpoint: Checkpoint | null;
  sequence: number;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  completedAt: number | null;
  idempotencyKey: string | null;
}

export interface Issue {
  severity: IssueSeverity;
  code: string;
  message: string;
  row: number | null;
  column: string | null;
  value: string | null;
}

/** The rows a job adds to its dataset: all it wrote, but for UPSERT's rows that replace one the dataset had. */
export function rowsInserted(job: Pick<Job, 'progress' | 'checkpoint'>): number {
  const matches = job.checkpoint?.keyMatches;
  return job.progress.rowsWritten - (matches ? matches.updated + matches.unchanged : 0);
}

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** The state machine of DESIGN.md: a terminal job never changes again. */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  PENDING: ['RUNNING', 'CANCELLED'],
  RUNNING: ['COMPLETED', 'FAILED', 'CANCELLED', 'PENDING'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export const JOB_ID_PREFIX = 'job_';
