import type { IssueLimits } from '../config';
import type { CellValue } from '../datasets/column-types';
import type { Checkpoint, Issue, KeyMatches, ProgressCounters } from '../jobs/model';
import type { RowSink } from '../ports/row-sink';
import { RejectedRowKeeper } from './rejected-rows';
import { approxBytes, type RawCell } from './values';

/** A batch is also due at about this much text, whatever its row count: 5000 rows of 1 MiB records would not fit the worker's heap. */
const MAX_BATCH_BYTES = 8 * 1024 ** 2;

const ZERO: ProgressCounters = { processedRows: 0, totalRows: null, rowsWritten: 0, rowsRejected: 0, bytesRead: 0, issueErrors: 0, issueWarnings: 0 };

/** Where an earlier attempt of the job left off: its last checkpoint and the counters committed with it. */
export interface BatchResume {
  checkpoint: Checkpoint;
  counters: ProgressCounters;
}

/**
 * The rows and issues a job has accepted but not yet written, with the job's counters. `commit`
 * writes them, the counters and the checkpoint in one step of the sink, fenced by the attempt's lease:
 * a batch is all there or not at all, and an attempt that lost its lease writes nothing. Every issue
 * is counted; at most `issueLimits.perJob` are stored (the rows' own cap is the validator's).
 */
export class Batch {
  readonly counters: ProgressCounters;
  /** UPSERT: of the rows accepted, those replacing a row of the dataset. */
  readonly keyMatches: KeyMatches;
  private rows: CellValue[][] = [];
  private bytes = 0;
  private issues: Issue[] = [];
  /** Issues stored by earlier commits: the index of the next one. */
  private issuesStored: number;
  /** Whether this batch dropped issue details, which the job's messages must then say. */
  private dropped = false;
  private lastCommit = Date.now();
  /** Rejected rows with their cells, for the job's rejected-rows file. */
  readonly rejects: RejectedRowKeeper;

  constructor(
    private readonly sink: RowSink,
    private readonly maxRows: number,
    private readonly intervalMs: number,
    private readonly issueLimits: IssueLimits,
    resume: BatchResume | null,
  ) {
    const counters = resume?.counters ?? ZERO;
    this.counters = { ...counters, totalRows: null };
    // A checkpoint from before the caps stored every issue it counted, and each is an error or a warning.
    this.issuesStored = resume?.checkpoint.issuesStored ?? counters.issueErrors + counters.issueWarnings;
    this.rejects = new RejectedRowKeeper(issueLimits, resume?.checkpoint.rejectsKept);
    this.keyMatches = { updated: 0, unchanged: 0, ...resume?.checkpoint.keyMatches };
  }

  /** Accepts a row; `match` says that it replaces a row of the dataset (UPSERT), with other values or the same. */
  accept(row: CellValue[], match?: keyof KeyMatches): void {
    this.rows.push(row);
    this.bytes += approxBytes(row);
    this.counters.rowsWritten++;
    if (match) this.keyMatches[match]++;
  }

  /** Rejects record `row` (its `cells` as read) for its `issues`, which describe the first of its `problems` errors (the validator keeps only so many). */
  reject(row: number, cells: readonly RawCell[], issues: readonly Issue[], problems = issues.length): void {
    this.counters.rowsRejected++;
    this.bytes += this.rejects.keep(row, cells, issues, problems);
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
    const pending = Math.max(this.rows.length, this.issues.length, this.rejects.pendingCount);
    return pending >= this.maxRows || this.bytes >= MAX_BATCH_BYTES || Date.now() - this.lastCommit >= this.intervalMs;
  }

  /** Writes the batch; `checkpoint` says where a resumed attempt would pick up after it (none before the columns are settled). */
  async commit(bytesRead: number, checkpoint: Checkpoint | undefined, stage?: string, messages?: Record<string, string>): Promise<void> {
    // Re-reading a file to resume passes bytes counted before: the counter never goes back.
    this.counters.bytesRead = Math.max(this.counters.bytesRead, bytesRead);
    const issuesStored = this.issuesStored + this.issues.length;
    const progress = {
      counters: this.counters,
      checkpoint: checkpoint && { ...checkpoint, issuesStored, rejectsKept: { ...this.rejects.kept }, keyMatches: { ...this.keyMatches } },
      stage,
      messages: this.dropped ? { ...messages, issues: this.cappedMessage() } : messages,
    };
    await this.sink.commit({ rows: this.rows, issues: this.issues, firstIssueIndex: this.issuesStored, rejectedRows: this.rejects.take(), progress });
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
