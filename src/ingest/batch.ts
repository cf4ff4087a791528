import type { CellValue } from '../datasets/sqlite-dataset-store';
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

/** Whose batches these are: the job, the lease that fences its writes, and how long each commit extends it. */
export interface BatchOwner {
  jobNum: number;
  leaseToken: string;
  leaseMs: number;
}

/**
 * The rows and issues a job has accepted but not yet written, with the job's counters. `commit`
 * writes them, the counters and the checkpoint in one transaction, fenced by the attempt's lease:
 * a batch is all there or not at all, and an attempt that lost its lease writes nothing.
 */
export class Batch {
  readonly counters: ProgressCounters;
  private rows: CellValue[][] = [];
  private bytes = 0;
  private issues: Issue[] = [];
  private issueIndex: number;
  private lastCommit = Date.now();
  /** Set once the dataset's columns are settled; until then a batch holds no rows. */
  writer: RowWriter | null = null;

  constructor(
    private readonly db: Db,
    private readonly jobs: SqliteJobStore,
    private readonly owner: BatchOwner,
    private readonly maxRows: number,
    private readonly intervalMs: number,
    /** The counters as the last checkpoint left them (all zero for a fresh start). */
    counters: ProgressCounters,
  ) {
    this.counters = { ...counters, totalRows: null };
    this.issueIndex = counters.issueErrors + counters.issueWarnings; // every noted issue is one of the two
  }

  accept(row: CellValue[]): void {
    this.rows.push(row);
    this.bytes += approxBytes(row);
    this.counters.rowsWritten++;
  }

  reject(issues: readonly Issue[]): void {
    this.counters.rowsRejected++;
    issues.forEach((issue) => this.note(issue));
  }

  note(issue: Issue): void {
    this.issues.push(issue);
    if (issue.severity === 'ERROR') this.counters.issueErrors++;
    else this.counters.issueWarnings++;
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
    writeTransaction(this.db, () => {
      const now = Date.now();
      // The fence first: a batch of an attempt that lost its lease is rolled back before it is written.
      if (!this.jobs.recordProgress(jobNum, leaseToken, { counters: this.counters, checkpoint, stage, messages }, now + leaseMs, now)) throw new LeaseLostError();
      if (this.rows.length > 0) this.writer!.write(this.rows);
      this.jobs.appendIssues(jobNum, this.issueIndex, this.issues);
    });
    this.issueIndex += this.issues.length;
    this.rows = [];
    this.bytes = 0;
    this.issues = [];
    this.lastCommit = Date.now();
  }
}
