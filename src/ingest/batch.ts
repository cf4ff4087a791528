import type { IssueLimits } from '../config';
import type { CellValue } from '../datasets/column-types';
import type { Checkpoint, Issue, ProgressCounters } from '../jobs/model';
import type { SqliteJobStore } from '../jobs/sqlite-job-store';
import { type Db, writeTransaction } from '../storage/sqlite';
import { approxBytes } from './values';
import type { RowWriter } from './writer';

/** A batch is also due at about this much text, whatever its row count: 5000 rows of 1 MiB records would not fit the worker's heap. */
const MAX_BATCH_BYTES = 8 * 1024 ** 2;

/** The attempt's lease was taken over: nothing of the batch was written. */
export class LeaseLostError extends Error {}

/**
 * Runs `work` in one write transaction that first checks the attempt still holds its lease: an
 * attempt that lost it (its job ended, or was taken over) writes nothing.
 */
export function fenced<T>(db: Db, jobs: SqliteJobStore, owner: Pick<BatchOwner, 'jobNum' | 'leaseToken'>, work: () => T): T {
  return writeTransaction(db, () => {
    if (!jobs.holdsLease(owner.jobNum, owner.leaseToken)) throw new LeaseLostError();
    return work();
  });
}

const ZERO: ProgressCounters = { processedRows: 0, totalRows: null, rowsWritten: 0, rowsRejected: 0, bytesRead: 0, issueErrors: 0, issueWarnings: 0 };

/** Where an earlier attempt of the job left off: its last checkpoint and the counters committed with it. */
export interface BatchResume {
  checkpoint: Checkpoint;
  counters: ProgressCounters;
}

/** Whose batches these are: the job, the lease that fences its writes, and how long each commit extends it. */
export interface BatchOwner {
  jobNum: number;
  leaseToken: string;
  leaseMs: number;
}

/**
 * The rows and issues a job has accepted but not yet written, with the job's counters. `commit`
 * writes them, the counters and the checkpoint in one transaction, fenced by the attempt's lease:
 * a batch is all there or not at all, and an attempt that lost its lease writes nothing. Every issue
 * is counted; at most `issueLimits.perJob` are stored (the rows' own cap is the validator's).
 */
export class Batch {
  readonly counters: ProgressCounters;
  private rows: CellValue[][] = [];
  private bytes = 0;
  private issues: Issue[] = [];
  /** Issues stored by earlier commits: the index of the next one. */
  private issuesStored: number;
  /** Whether this batch dropped issue details, which the job's messages must then say. */
  private dropped = false;
  private lastCommit = Date.now();
  /** Set once the dataset's columns are settled; until then a batch holds no rows. */
  writer: RowWriter | null = null;

  constructor(
    private readonly db: Db,
    private readonly jobs: SqliteJobStore,
    private readonly owner: BatchOwner,
    private readonly maxRows: number,
    private readonly intervalMs: number,
    private readonly issueLimits: IssueLimits,
    resume: BatchResume | null,
  ) {
    const counters = resume?.counters ?? ZERO;
    this.counters = { ...counters, totalRows: null };
    // A checkpoint from before the caps stored every issue it counted, and each is an error or a warning.
    this.issuesStored = resume?.checkpoint.issuesStored ?? counters.issueErrors + counters.issueWarnings;
  }

  accept(row: CellValue[]): void {
    this.rows.push(row);
    this.bytes += approxBytes(row);
    this.counters.rowsWritten++;
  }

  /** Rejects a row for its `issues`, which describe the first of its `problems` errors (the validator keeps only so many). */
  reject(issues: readonly Issue[], problems = issues.length): void {
    this.counters.rowsRejected++;
    issues.forEach((issue) => this.note(issue));
    this.counters.issueErrors += problems - issues.length;
    if (problems > issues.length) this.dropped = true;
  }

  note(issue: Issue): void {
    if (issue.severity === 'ERROR') this.counters.issueErrors++;
    else this.counters.issueWarnings++;
    if (this.issuesStored + this.issues.length < this.issueLimits.perJob) this.issues.push(issue);
    else this.dropped = true;
  }

  /** Whether the batch is full or its progress is old enough to commit. */
  get due(): boolean {
    return this.rows.length >= this.maxRows || this.bytes >= MAX_BATCH_BYTES || this.issues.length >= this.maxRows || Date.now() - this.lastCommit >= this.intervalMs;
  }

  /** Writes the batch; `checkpoint` says where a resumed attempt would pick up after it (none before the columns are settled). */
  commit(bytesRead: number, checkpoint: Checkpoint | undefined, stage?: string, messages?: Record<string, string>): void {
    // Re-reading a file to resume passes bytes counted before: the counter never goes back.
    this.counters.bytesRead = Math.max(this.counters.bytesRead, bytesRead);
    const { jobNum, leaseToken, leaseMs } = this.owner;
    const issuesStored = this.issuesStored + this.issues.length;
    const update = {
      counters: this.counters,
      checkpoint: checkpoint && { ...checkpoint, issuesStored },
      stage,
      messages: this.dropped ? { ...messages, issues: this.cappedMessage() } : messages,
    };
    writeTransaction(this.db, () => {
      const now = Date.now();
      // The fence first: a batch of an attempt that lost its lease is rolled back before it is written.
      if (!this.jobs.recordProgress(jobNum, leaseToken, update, now + leaseMs, now)) throw new LeaseLostError();
      if (this.rows.length > 0) this.writer!.write(this.rows);
      this.jobs.appendIssues(jobNum, this.issuesStored, this.issues);
    });
    this.issuesStored = issuesStored;
    this.rows = [];
    this.bytes = 0;
    this.issues = [];
    this.dropped = false;
    this.lastCommit = Date.now();
  }

  private cappedMessage(): string {
    const { perRow, perJob } = this.issueLimits;
    return `not every issue is stored: at most ${perRow} per row and ${perJob} per job are; issueCounts and rowsRejected count them all`;
  }
}
