import type { FileInfo, Issue, IssueSeverity, Job, JobError, JobOptions, JobStatus, ProgressCounters } from './model';

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
  error?: JobError | null;
  startedAt?: number;
  completedAt?: number;
  attemptsIncrement?: number;
  totalRows?: number;
}

export interface ProgressUpdate {
  counters: ProgressCounters;
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
  withStatus(status: JobStatus): Job[];
  /** The oldest PENDING job whose dataset has no RUNNING job, or null. */
  nextRunnable(): Job | null;
  /** Moves the job from `from` to `to` if it is still in `from`; false when another change won. */
  transition(num: number, from: JobStatus, to: JobStatus, patch: TransitionPatch, now: number): boolean;
  recordProgress(num: number, update: ProgressUpdate, now: number): void;
  touch(num: number, now: number): void;
  /** Forgets what an interrupted attempt did, so that the next attempt starts over. */
  resetProgress(num: number): void;
  appendIssues(num: number, firstIndex: number, issues: readonly Issue[]): void;
  issues(num: number, severity: IssueSeverity | null, limit: number, afterIndex: number): Array<Issue & { index: number }>;
  issueCount(num: number, severity: IssueSeverity | null): number;
  /** Deletes up to `limit` jobs that ended before `endedBefore`, with their issues and webhook deliveries; returns how many. */
  deleteEnded(endedBefore: number, limit: number): number;
}
