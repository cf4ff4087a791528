import type { DatasetColumn } from '../datasets/columns';
import type { FileInfo, Issue, IssueSeverity, Job, JobError, JobOptions, JobStatus, RejectedRow } from '../jobs/model';

export interface NewJob {
  id: string;
  workspace: string;
  file: FileInfo;
  /** The blob store's key of the upload. */
  upload: string;
  options: JobOptions;
  idempotencyKey: string | null;
  now: number;
}

/**
 * The dataset a new job writes into, created with it when the workspace has none of that name; a dry
 * run creates it provisional and without columns (its own settle sets them, and its end forgets them).
 */
export interface NewJobDataset {
  name: string;
  columns: DatasetColumn[] | null;
}

/** What a workspace holds now, for its limits: its PENDING and RUNNING jobs and their uploads' bytes. */
export interface WorkspaceLoad {
  activeJobs: number;
  queuedBytes: number;
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
  completedAt?: number;
  attemptsIncrement?: number;
  /** Set when the move ends an interrupted attempt: how many in a row have now made no progress. */
  fruitlessAttempts?: number;
}

/**
 * What a transition does to the job's dataset, in the same atomic step: `publish` makes the rows the
 * job committed visible (APPEND: added; REPLACE: in place of all others), counted as the store has
 * them, and sets the job's totalRows to the rows it processed (a dry run's rows are abandoned
 * instead); `abandon` hides them for good and forgets columns that the job set while the dataset
 * was never published;
 * `startOver` abandons them and also forgets the job's counters and issues, for an attempt that
 * resumes without a checkpoint.
 */
export type DatasetEffect = 'publish' | 'abandon' | 'startOver' | null;

export interface Claim {
  /** The lease owner: the instance that runs the attempt. */
  owner: string;
  leaseMs: number;
  now: number;
}

/**
 * Persistence of jobs and their issues. Every method is one atomic step. Every move of a job's
 * status commits, in that same step, the dataset change it implies and the webhook deliveries
 * (outbox rows) that announce it, so that a crash can never separate them.
 */
export interface JobStore {
  /**
   * Creates the job, and its dataset when the workspace has none of that name. With an idempotency
   * key already used in the workspace, creates nothing and returns the earlier job. `admit` sees the
   * workspace's load inside the step and throws to refuse the job (a workspace limit).
   */
  create(job: NewJob, dataset: NewJobDataset, admit: (load: WorkspaceLoad) => void): Promise<{ job: Job; created: boolean }>;
  get(id: string): Promise<Job | null>;
  getByNum(num: number): Promise<Job | null>;
  findByIdempotencyKey(workspace: string, key: string): Promise<Job | null>;
  /** Newest first, strictly older than `beforeNum` when given. */
  list(filter: JobFilter, limit: number, beforeNum?: number): Promise<Job[]>;
  count(filter: JobFilter): Promise<number>;
  /** How many jobs of every workspace are in each status (statuses without jobs left out): for the operators' metrics. */
  countByStatus(): Promise<Partial<Record<JobStatus, number>>>;
  /**
   * Claims the oldest PENDING job whose dataset has no RUNNING job (arrival order, one running job
   * per dataset): moves it to RUNNING under a fresh lease (a new token) of `claim.owner`, starting an
   * attempt. Null when nothing is runnable. No two claims ever get the same job.
   */
  claimNext(claim: Claim): Promise<{ before: Job; after: Job } | null>;
  /**
   * Moves `job` from the status it has to `to` with `patch` and `effect`, if it is still in that
   * status and (out of RUNNING) still held under the lease it carries (a RUNNING job object without
   * a lease moves nothing); null when another change won. Every move but a claim drops the lease.
   * A lease is held while the job is RUNNING under its token: one past its expiry still is, until
   * the reaper moves the job (`withVoidLease` finds it).
   */
  transition(job: Job, to: JobStatus, patch: TransitionPatch, effect: DatasetEffect, now: number): Promise<Job | null>;
  /**
   * Notes that a cancel was asked of a RUNNING job, for the instance that runs it to act on; the job
   * is otherwise unchanged (not even its sequence). Null when the job is not RUNNING under `leaseToken`.
   */
  requestCancel(num: number, leaseToken: string): Promise<Job | null>;
  /** The heartbeat: advances updatedAt and extends the lease; false when the attempt no longer holds it. */
  renewLease(num: number, leaseToken: string, leaseMs: number, now: number): Promise<boolean>;
  /**
   * RUNNING jobs whose lease is void: it expired, or its owner is neither `liveOwner` nor an instance
   * that still serves the storage (on an exclusive storage only `liveOwner` serves it).
   */
  withVoidLease(liveOwner: string, now: number): Promise<Job[]>;
  /** Issues in the order they were noted, after index `afterIndex`. */
  issues(num: number, severity: IssueSeverity | null, limit: number, afterIndex: number): Promise<Array<Issue & { index: number }>>;
  issueCount(num: number, severity: IssueSeverity | null): Promise<number>;
  /** The rejected rows a job kept, in row order after row `afterRow` (row 0, first, holds the file's header); a job starting over forgets them. */
  rejectedRows(num: number, afterRow: number, limit: number): Promise<RejectedRow[]>;
  /**
   * Deletes up to `limit` jobs that ended before `endedBefore`, with their issues, rejected rows and
   * webhook deliveries, and provisional datasets no job names any more; returns their uploads' keys (null: none).
   */
  deleteEnded(endedBefore: number, limit: number): Promise<Array<string | null>>;
  /** Keys of the uploads jobs still refer to: those of waiting and running jobs, and of ended ones too with `includeEnded`. */
  uploadKeys(includeEnded: boolean): Promise<Set<string>>;
}
