import type { CellValue } from '../datasets/sqlite-dataset-store';
import type { Issue, ProgressCounters } from '../jobs/model';
import type { SqliteJobStore } from '../jobs/sqlite-job-store';
import { type Db, writeTransaction } from '../storage/sqlite';
import type { RowWriter } from './writer';

/**
 * The rows and issues a job has accepted but not yet written, with the job's counters. `commit`
 * writes them and the counters in one transaction: a batch is all there or not at all.
 */
export class Batch {
  readonly counters: ProgressCounters = {
    processedRows: 0,
    totalRows: null,
    rowsWritten: 0,
    rowsRejected: 0,
    bytesRead: 0,
    issueErrors: 0,
    issueWarnings: 0,
  };
  private rows: CellValue[][] = [];
  private issues: Issue[] = [];
  private issueIndex = 0;
  private lastCommit = Date.now();
  /** Set once the dataset's columns are settled; until then a batch holds no rows. */
  writer: RowWriter | null = null;

  constructor(
    private readonly db: Db,
    private readonly jobs: SqliteJobStore,
    private readonly jobNum: number,
    private readonly maxRows: number,
    private readonly intervalMs: number,
  ) {}

  accept(row: CellValue[]): void {
    this.rows.push(row);
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
    return this.rows.length >= this.maxRows || this.issues.length >= this.maxRows || Date.now() - this.lastCommit >= this.intervalMs;
  }

  commit(bytesRead: number, stage?: string, messages?: Record<string, string>): void {
    this.counters.bytesRead = bytesRead;
    writeTransaction(this.db, () => {
      if (this.rows.length > 0) this.writer!.write(this.rows);
      this.jobs.appendIssues(this.jobNum, this.issueIndex, this.issues);
      this.jobs.recordProgress(this.jobNum, { counters: this.counters, stage, messages }, Date.now());
    });
    this.issueIndex += this.issues.length;
    this.rows = [];
    this.issues = [];
    this.lastCommit = Date.now();
  }
}
