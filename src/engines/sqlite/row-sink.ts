import type { DatasetColumn } from '../../datasets/columns';
import type { CellValue } from '../../datasets/column-types';
import type { Dataset } from '../../datasets/model';
import { LeaseLostError } from '../../ports/errors';
import type { Attempt, BatchCommit, KeyedRows, RowSink } from '../../ports/row-sink';
import { checkShapeFits } from '../shared/dataset-record';
import { type Db, writeTransaction } from './database';
import { SqliteDatasetStore } from './dataset-store';
import { issueStatements, jobStatements } from './job-rows';
import { RowWriter } from './row-writer';
import { asStorageFaults, storageFaultOf } from './storage-faults';
import { SqliteUniqueChecks } from './unique-checks';
import { SqliteKeyLookups } from './key-lookups';

/** An attempt's writes on SQLite, on the connection of the thread that runs it. A storage failure surfaces as StorageFault. */
export class SqliteRowSink implements RowSink {
  private readonly jobs;
  private readonly issues;
  private readonly datasets: SqliteDatasetStore;
  private readonly unique: SqliteUniqueChecks;
  private readonly keys: SqliteKeyLookups;
  private writer: RowWriter | null = null;
  /** The first row number of the job's rows, once they are begun. */
  private fromRow: number | null = null;

  constructor(
    private readonly db: Db,
    private readonly attempt: Attempt,
  ) {
    this.jobs = jobStatements(db);
    this.issues = issueStatements(db);
    this.datasets = new SqliteDatasetStore(db);
    this.unique = new SqliteUniqueChecks(db, this.datasets);
    this.keys = new SqliteKeyLookups(db, this.datasets);
  }

  async dataset(): Promise<Dataset> {
    return asStorageFaults(() => this.datasets.find(this.attempt.datasetId)!);
  }

  async settle(shape: readonly DatasetColumn[]): Promise<void> {
    const { datasetId, jobNum } = this.attempt;
    this.fromRow = this.fenced(() => {
      if (!this.datasets.find(datasetId)!.columns) this.datasets.setColumns(datasetId, shape, jobNum, Date.now());
      checkShapeFits(this.datasets.find(datasetId)!.columns!, shape); // rolls back nothing: the columns were there already
      return this.datasets.beginJobRows(datasetId, jobNum);
    });
    this.writer = new RowWriter(this.db, datasetId, shape.length);
  }

  async prepareUnique(columnIndexes: readonly number[], replace: boolean): Promise<void> {
    if (this.fromRow === null) throw new Error('prepareUnique before settle');
    const dataset = asStorageFaults(() => this.datasets.find(this.attempt.datasetId)!);
    await this.unique.prepare(dataset, columnIndexes, this.fromRow, replace).catch((error) => {
      throw storageFaultOf(error);
    });
  }

  async taken(columnIndex: number, values: readonly CellValue[]): Promise<Set<CellValue>> {
    return asStorageFaults(() => this.unique.taken(columnIndex, values));
  }

  async prepareKey(columnIndexes: readonly number[], visible: boolean): Promise<void> {
    if (this.fromRow === null) throw new Error('prepareKey before settle');
    const fromRow = this.fromRow;
    asStorageFaults(() => this.keys.prepare(this.datasets.find(this.attempt.datasetId)!, columnIndexes, fromRow, visible));
  }

  async keyed(keys: readonly CellValue[][]): Promise<KeyedRows> {
    return asStorageFaults(() => this.keys.keyed(keys));
  }

  async commit(batch: BatchCommit): Promise<void> {
    if (batch.rows.length > 0 && !this.writer) throw new Error('rows committed before settle');
    asStorageFaults(() => this.write(batch));
  }

  private write({ rows, issues, firstIssueIndex, rejectedRows, progress }: BatchCommit): void {
    const { jobNum, leaseToken, leaseMs } = this.attempt;
    writeTransaction(this.db, () => {
      const now = Date.now();
      // The fence first: a batch of an attempt that lost its lease is rolled back before it is written.
      const { changes } = this.jobs.progress.run({
        num: jobNum,
        token: leaseToken,
        ...progress.counters,
        stage: progress.stage ?? null,
        messages: progress.messages ? JSON.stringify(progress.messages) : null,
        checkpoint: progress.checkpoint ? JSON.stringify(progress.checkpoint) : null,
        leaseUntil: now + leaseMs,
        now,
      });
      if (changes !== 1) throw new LeaseLostError();
      if (rows.length > 0) {
        this.writer!.write(rows);
        this.unique.written(rows);
      }
      issues.forEach((issue, i) => {
        this.issues.insertIssue.run(jobNum, firstIssueIndex + i, issue.severity, issue.code, issue.message, issue.row, issue.column, issue.value);
      });
      for (const reject of rejectedRows) this.issues.insertRejectedRow.run(jobNum, reject.row, reject.errors, JSON.stringify(reject.cells));
    });
  }

  async close(): Promise<void> {}

  /** Runs `work` in one write transaction that first checks the attempt still holds its lease. */
  private fenced<T>(work: () => T): T {
    return asStorageFaults(() => writeTransaction(this.db, () => {
      if (this.jobs.holdsLease.get(this.attempt.jobNum, this.attempt.leaseToken) === undefined) throw new LeaseLostError();
      return work();
    }));
  }
}
