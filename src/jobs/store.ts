import type { Checkpoint, FileInfo, Issue, IssueSeverity, Job, JobError, JobOptions, JobStatus, Lease, ProgressCounters } from './model';

export interface NewJob {
  id: string;
  workspace: string;
  datasetId: number;
  file: FileInfo;
  spoolPath: string;
  options: JobOptions;
  idempotencyKey: string | null;
  now: number;
}

export interface JobFilter {
  workspace: string;
  statuses?: readonly JobStatus[];
  datasetId?: number;
}

/** Fields a transition may set beside the status. */
export interface TransitionPatch {
  stage: string;
  /** The claim of a move to RUNNING; every other move drops the lease. */
  lease?: Lease;
  error?: JobError | null;
  /** Set by a claim: the attempt starts now (and the job, on its first claim: the job's start is kept). */
  startedAt?: number;
  completedAt?: number;
  attemptsIncrement?: number;
  /** Set when the move ends an interrupted attempt: how many in a row have now made no progress. */
  fruitlessAttempts?: number;
  totalRows?: number;
}

export interface ProgressUpdate {
  counters: ProgressCounters;
  checkpoint?: Checkpoint;
  stage?: string;
  messages?: Record<string, string>;
}

/** Persistence of jobs and their issues. Every method is one atomic step. */
export interface JobStore {
  insert(job: NewJob): Job;
  get(id: string): Job | null;
  getByNum(num: number): Job | null;
  findByIdempotencyKey(workspace: string, key: string): Job | null;
  /** Newest first, strictly older than `beforeNum` when given. */
  list(filter: JobFilter, limit: number, beforeNum?: number): Job[];
  count(filter: JobFilter): number;
  /** The oldest PENDING job whose dataset has no RUNNING job, or null. */
  nextRunnable(): Job | null;
  /** RUNNING jobs whose lease is void: it expired, or it belongs to another process than `liveOwner`. */
  withVoidLease(liveOwner: string, now: number): Job[];
  /**
   * Moves the job from `from` to `to` if it is still in `from` (and, out of RUNNING, still held with
   * `leaseToken`); false when another change won.
   */
  transition(num: number, from: JobStatus, to: JobStatus, patch: TransitionPatch, now: number, leaseToken?: string): boolean;
  /** Commits an attempt's progress and extends its lease; false (nothing written) when the attempt no longer holds the lease. */
  recordProgress(num: number, leaseToken: string, update: ProgressUpdate, leaseUntil: number, now: number): boolean;
  /** Forgets what an attempt without a checkpoint did (counters, issues), so that the next attempt starts over. */
  resetProgress(num: number): void;
  /** The heartbeat: advances updatedAt and extends the lease; false when the attempt no longer holds it. */
  renewLease(num: number, leaseToken: string, leaseUntil: number, now: number): boolean;
  appendIssues(num: number, firstIndex: number, issues: readonly Issue[]): void;
  issues(num: number, severity: IssueSeverity | null, limit: number, afterIndex: number): Array<Issue & { index: number }>;
  issueCount(num: number, severity: IssueSeverity | null): number;
  /** Deletes up to `limit` jobs that ended before `endedBefore`, with their issues and webhook deliveries; returns their spooled uploads' paths (null: none). */
  deleteEnded(endedBefore: number, limit: number): Array<string | null>;
  /** Paths of the spooled uploads jobs still refer to: those of waiting and running jobs, and of ended ones too with `includeEnded`. */
  spoolPaths(includeEnded: boolean): Set<string>;
}
