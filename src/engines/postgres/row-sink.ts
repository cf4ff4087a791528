import type pg from 'pg';
import type { CellValue } from '../../datasets/column-types';
import type { DatasetColumn } from '../../datasets/columns';
import type { Dataset } from '../../datasets/model';
import { LeaseLostError } from '../../ports/errors';
import type { Attempt, BatchCommit, KeyedRows, ProgressUpdate, RowSink } from '../../ports/row-sink';
import { checkShapeFits, type StoredDataset } from '../shared/dataset-record';
import { copyRows } from './copy-rows';
import { DB_NOW_MS, inTransaction } from './database';
import { beginJobRows, findDataset, setColumns, takeRowNumbers } from './dataset-steps';
import { insertIssues, insertRejectedRows } from './job-rows';
import { asStorageFaults } from './storage-faults';
import { PgUniqueChecks } from './unique-checks';
import { PgKeyLookups } from './key-lookups';
import { PgTableStatistics } from './table-statistics';

// The fence and the progress of a batch in one statement: nothing of a batch is written unless the
// attempt still holds its lease, and the job's row stays locked until the batch commits.
const PROGRESS = `
  UPDATE jobs SET processed_rows = $3, total_rows = $4, rows_written = $5, rows_rejected = $6, bytes_read = $7,
    issue_errors = $8, issue_warnings = $9, stage = COALESCE($10, stage),
    messages = CASE WHEN $11::jsonb IS NULL THEN messages ELSE messages || $11::jsonb END,
    checkpoint = COALESCE($12::jsonb, checkpoint), lease_expires_at = ${DB_NOW_MS} + $13::bigint,
    sequence = sequence + 1, updated_at = ${DB_NOW_MS}
  WHERE num = $1 AND status = 'RUNNING' AND lease_token = $2`;

/**
 * An attempt's writes on PostgreSQL, on a connection of its own (the worker thread's), each one
 * transaction fenced by the lease. A storage failure surfaces as StorageFault; `close` ends the connection.
 */
export class PgRowSink implements RowSink {
  private readonly unique: PgUniqueChecks;
  private readonly keys: PgKeyLookups;
  private readonly statistics: PgTableStatistics;
  /** The first row number of the job's rows and the dataset's width, once settled. */
  private settled: { fromRow: number; width: number } | null = null;

  constructor(
    private readonly db: pg.Client,
    private readonly attempt: Attempt,
  ) {
    // A connection lost while idle must not crash the thread: the next query fails, as a StorageFault.
    db.on('error', () => {});
    this.unique = new PgUniqueChecks(db);
    this.keys = new PgKeyLookups(db);
    this.statistics = new PgTableStatistics(db, attempt.datasetId);
  }

  async dataset(): Promise<Dataset> {
    return asStorageFaults(async () => (await findDataset(this.db, this.attempt.datasetId))!);
  }

  async settle(shape: readonly DatasetColumn[]): Promise<void> {
    const { datasetId, jobNum } = this.attempt;
    const fromRow = await this.fenced(async () => {
      // Locked, so that the columns compared are those this step commits with.
      if (!(await findDataset(this.db, datasetId, true))!.columns) await setColumns(this.db, datasetId, shape, jobNum, Date.now());
      checkShapeFits((await findDataset(this.db, datasetId))!.columns!, shape); // rolls back nothing: the columns were there already
      return beginJobRows(this.db, datasetId, jobNum);
    });
    this.settled = { fromRow, width: shape.length };
  }

  async prepareUnique(columnIndexes: readonly number[], replace: boolean): Promise<void> {
    await this.prepareLookups('prepareUnique', columnIndexes, (dataset, fromRow) => this.unique.prepare(dataset, columnIndexes, fromRow, replace));
  }

  async taken(columnIndex: number, values: readonly CellValue[]): Promise<Set<CellValue>> {
    return asStorageFaults(() => this.unique.taken(columnIndex, values));
  }

  async prepareKey(columnIndexes: readonly number[], visible: boolean): Promise<void> {
    await this.prepareLookups('prepareKey', columnIndexes, (dataset, fromRow) => this.keys.prepare(dataset, columnIndexes, fromRow, visible));
  }

  /** Readies lookups by these columns on the settled dataset, and keeps the columns' planner statistics fresh. */
  private async prepareLookups(what: string, columnIndexes: readonly number[], prepare: (dataset: StoredDataset, fromRow: number) => Promise<void>): Promise<void> {
    const settled = this.settled;
    if (!settled) throw new Error(`${what} before settle`);
    await asStorageFaults(async () => {
      const dataset = (await findDataset(this.db, this.attempt.datasetId))!;
      await prepare(dataset, settled.fromRow);
      await this.statistics.track(columnIndexes, dataset.rowCount);
    });
  }

  async keyed(keys: readonly CellValue[][]): Promise<KeyedRows> {
    return asStorageFaults(() => this.keys.keyed(keys));
  }

  async commit({ rows, issues, firstIssueIndex, rejectedRows, progress }: BatchCommit): Promise<void> {
    const settled = this.settled;
    if (rows.length > 0 && !settled) throw new Error('rows committed before settle');
    await asStorageFaults(() =>
      inTransaction(this.db, async () => {
        // The fence first: a batch of an attempt that lost its lease is rolled back before it is written.
        await this.fence(progress);
        if (rows.length > 0) {
          const firstRow = await takeRowNumbers(this.db, this.attempt.datasetId, rows.length);
          await copyRows(this.db, this.attempt.datasetId, settled!.width, rows, firstRow);
        }
        await insertIssues(this.db, this.attempt.jobNum, firstIssueIndex, issues);
        await insertRejectedRows(this.db, this.attempt.jobNum, rejectedRows);
      }),
    );
    await asStorageFaults(() => this.statistics.written(rows.length));
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => {});
  }

  private async fence(progress: ProgressUpdate): Promise<void> {
    const { jobNum, leaseToken, leaseMs } = this.attempt;
    const { counters } = progress;
    const { rowCount } = await this.db.query(PROGRESS, [
      jobNum,
      leaseToken,
      counters.processedRows,
      counters.totalRows,
      counters.rowsWritten,
      counters.rowsRejected,
      counters.bytesRead,
      counters.issueErrors,
      counters.issueWarnings,
      progress.stage ?? null,
      progress.messages ? JSON.stringify(progress.messages) : null,
      progress.checkpoint ? JSON.stringify(progress.checkpoint) : null,
      leaseMs,
    ]);
    if (rowCount !== 1) throw new LeaseLostError();
  }

  /** Runs `work` in one transaction that first checks, and locks, the attempt's hold of its lease. */
  private async fenced<T>(work: () => Promise<T>): Promise<T> {
    return asStorageFaults(() =>
      inTransaction(this.db, async () => {
        const { rowCount } = await this.db.query(`SELECT 1 FROM jobs WHERE num = $1 AND status = 'RUNNING' AND lease_token = $2 FOR UPDATE`, [
          this.attempt.jobNum,
          this.attempt.leaseToken,
        ]);
        if (rowCount !== 1) throw new LeaseLostError();
        return work();
      }),
    );
  }
}
