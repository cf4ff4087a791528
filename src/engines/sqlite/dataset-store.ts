import type { CellValue } from '../../datasets/column-types';
import type { DatasetColumn } from '../../datasets/columns';
import type { DatasetRow } from '../../datasets/model';
import type { IngestMode } from '../../jobs/model';
import type { DatasetStore } from '../../ports/dataset-store';
import { type Db, writeTransaction } from './database';
import { type DatasetRecord, type HiddenRange, type StoredDataset, toDataset } from '../shared/dataset-record';
import { fromStorage, rowsTable, rowsTableSql, visibilitySql } from './dataset-tables';
import { replaceKeyedRows } from './upsert-rows';

/**
 * The dataset store on SQLite. Beside the port's methods it has the synchronous steps the job store
 * and the row sink compose into their own transactions (creating a dataset with its first job,
 * publishing or abandoning a job's rows, settling columns, opening a job's rows).
 */
export class SqliteDatasetStore implements DatasetStore {
  private readonly statements;

  constructor(private readonly db: Db) {
    this.statements = {
      byName: db.prepare('SELECT * FROM datasets WHERE workspace = ? AND name = ?'),
      byId: db.prepare('SELECT * FROM datasets WHERE id = ?'),
      list: db.prepare('SELECT * FROM datasets WHERE workspace = ? AND provisional = 0 ORDER BY name'),
      insert: db.prepare('INSERT INTO datasets (workspace, name, columns, provisional, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      confirm: db.prepare('UPDATE datasets SET provisional = 0 WHERE id = ? AND provisional = 1'),
      dropUnused: db.prepare('DELETE FROM datasets WHERE provisional = 1 AND columns IS NULL AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.dataset_id = datasets.id)'),
      setColumns: db.prepare('UPDATE datasets SET columns = ?, columns_job = ?, updated_at = ? WHERE id = ? AND columns IS NULL'),
      columnsSetBy: db.prepare('SELECT 1 FROM datasets WHERE id = ? AND columns_job = ?'),
      forgetColumns: db.prepare('UPDATE datasets SET columns = NULL, columns_job = NULL, row_count = 0, visible_from_row = 0, updated_at = ? WHERE id = ?'),
      deleteRanges: db.prepare('DELETE FROM dataset_hidden_ranges WHERE dataset_id = ?'),
      hidden: db.prepare('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges WHERE dataset_id = ? ORDER BY from_row'),
      openRangeOfJob: db.prepare('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges WHERE dataset_id = ? AND job_num = ? AND to_row IS NULL'),
      insertHidden: db.prepare('INSERT INTO dataset_hidden_ranges (dataset_id, job_num, from_row) VALUES (?, ?, ?)'),
      deleteRange: db.prepare('DELETE FROM dataset_hidden_ranges WHERE dataset_id = ? AND from_row = ?'),
      closeHidden: db.prepare('UPDATE dataset_hidden_ranges SET to_row = ? WHERE dataset_id = ? AND job_num = ? AND to_row IS NULL'),
      commitAppend: db.prepare('UPDATE datasets SET row_count = row_count + ?, columns_job = NULL, updated_at = ? WHERE id = ?'),
      commitReplace: db.prepare('UPDATE datasets SET row_count = ?, visible_from_row = ?, columns_job = NULL, updated_at = ? WHERE id = ?'),
      closedRanges: db.prepare('SELECT dataset_id, job_num, from_row, to_row FROM dataset_hidden_ranges WHERE to_row IS NOT NULL LIMIT 1'),
      lastRow: db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?'),
      superseded: db.prepare('SELECT id, visible_from_row FROM datasets WHERE visible_from_row > 0 AND columns IS NOT NULL'),
    };
  }

  async get(workspace: string, name: string): Promise<StoredDataset | null> {
    const dataset = this.findByName(workspace, name);
    return dataset?.provisional ? null : dataset;
  }

  async idOf(workspace: string, name: string): Promise<number | null> {
    return this.findByName(workspace, name)?.id ?? null;
  }

  async getById(id: number): Promise<StoredDataset | null> {
    return this.find(id);
  }

  async list(workspace: string): Promise<StoredDataset[]> {
    return (this.statements.list.all(workspace) as DatasetRecord[]).map(toDataset);
  }

  async rows(dataset: { id: number }, afterRow: number, limit: number): Promise<DatasetRow[]> {
    const stored = this.find(dataset.id);
    if (!stored?.columns) return [];
    const columns = stored.columns;
    const visible = visibilitySql(stored, this.hiddenRanges(stored.id));
    const records = this.db
      .prepare(`SELECT * FROM ${rowsTable(stored.id)} WHERE _row > ? AND ${visible.sql} ORDER BY _row LIMIT ?`)
      .raw()
      .all(afterRow, ...visible.params, limit) as CellValue[][];
    return records.map(([row, ...cells]) => ({
      row: row as number,
      values: Object.fromEntries(columns.map((column, i) => [column.name, fromStorage(column.type, cells[i])])),
    }));
  }

  async purgeStep(maxRows: number): Promise<number> {
    return writeTransaction(this.db, () => this.purgeChunk(maxRows));
  }

  find(id: number): StoredDataset | null {
    const record = this.statements.byId.get(id) as DatasetRecord | undefined;
    return record ? toDataset(record) : null;
  }

  findByName(workspace: string, name: string): StoredDataset | null {
    const record = this.statements.byName.get(workspace, name) as DatasetRecord | undefined;
    return record ? toDataset(record) : null;
  }

  hiddenRanges(id: number): HiddenRange[] {
    return this.statements.hidden.all(id) as HiddenRange[];
  }

  /** Creates the dataset, with its rows table when the columns are known; a provisional one (for a dry run) never has them here. */
  insert(workspace: string, name: string, columns: DatasetColumn[] | null, provisional: boolean, now: number): StoredDataset {
    const known = provisional ? null : columns;
    const { lastInsertRowid } = this.statements.insert.run(workspace, name, known && JSON.stringify(known), provisional ? 1 : 0, now, now);
    const id = Number(lastInsertRowid);
    if (known) this.createRowsTable(id, known);
    return this.find(id)!;
  }

  /** A real job names a provisional dataset: from now on it is listed and found by name. */
  confirm(id: number): void {
    this.statements.confirm.run(id);
  }

  /** Deletes provisional datasets that no job refers to any more (their dry runs were deleted). */
  dropUnused(): void {
    this.statements.dropUnused.run();
  }

  /** Sets the columns of a dataset created without them, as `jobNum` inferred them; false when another job set them first. */
  setColumns(id: number, columns: readonly DatasetColumn[], jobNum: number, now: number): boolean {
    if (this.statements.setColumns.run(JSON.stringify(columns), jobNum, now, id).changes === 0) return false;
    this.createRowsTable(id, columns);
    return true;
  }

  /**
   * Built with the table, an index of a UNIQUE column costs nothing. (Built later, on a table with
   * rows, CREATE INDEX would hold the write lock for its whole run: a rule declared later is checked
   * through a value set instead, see the row sink.)
   */
  private createRowsTable(id: number, columns: readonly DatasetColumn[]): void {
    for (const sql of rowsTableSql(id, columns)) this.db.exec(sql);
  }

  /** The highest row number ever given out in the dataset (AUTOINCREMENT never reuses one). */
  lastRow(id: number): number {
    const row = this.statements.lastRow.get(rowsTable(id)) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Opens the hidden range a job writes into (a resumed attempt keeps its own); returns the first row number it will write. */
  beginJobRows(datasetId: number, jobNum: number): number {
    const existing = this.statements.openRangeOfJob.get(datasetId, jobNum) as HiddenRange | undefined;
    if (existing) return existing.from_row;
    const fromRow = this.lastRow(datasetId) + 1;
    this.statements.insertHidden.run(datasetId, jobNum, fromRow);
    return fromRow;
  }

  /**
   * Makes a completed job's rows visible: added to the dataset (APPEND), in place of all others
   * (REPLACE), or in place of the rows with their keys (UPSERT; `rows.inserted` are new).
   */
  publishJobRows(datasetId: number, jobNum: number, mode: IngestMode, rows: { written: number; inserted: number }, now: number): void {
    const range = this.statements.openRangeOfJob.get(datasetId, jobNum) as HiddenRange | undefined;
    if (range && mode === 'UPSERT') replaceKeyedRows(this.db, this.find(datasetId)!, this.hiddenRanges(datasetId), range.from_row);
    if (range) this.statements.deleteRange.run(datasetId, range.from_row);
    if (mode !== 'REPLACE') {
      this.statements.commitAppend.run(rows.inserted, now, datasetId);
    } else {
      // Rows below the job's range are superseded; with no range the job wrote nothing, so all rows are.
      const visibleFrom = range ? range.from_row : this.lastRow(datasetId) + 1;
      this.statements.commitReplace.run(rows.written, visibleFrom, now, datasetId);
    }
  }

  /**
   * Undoes what a failed or cancelled job did to the dataset: its rows' range is closed at its last
   * row for the purger (dropped at once when it wrote none), and columns that it set are forgotten
   * while the dataset was never published (columns_job is cleared at a publish), so the dataset is as it was.
   */
  abandonJobRows(datasetId: number, jobNum: number, now: number): void {
    const dataset = this.find(datasetId);
    if (!dataset?.columns) return;
    const range = this.statements.openRangeOfJob.get(datasetId, jobNum) as HiddenRange | undefined;
    const lastRow = this.lastRow(datasetId);
    if (range && lastRow < range.from_row) this.statements.deleteRange.run(datasetId, range.from_row);
    else if (range) this.statements.closeHidden.run(lastRow, datasetId, jobNum);
    if (this.statements.columnsSetBy.get(datasetId, jobNum)) {
      this.db.exec(`DROP TABLE ${rowsTable(datasetId)}`);
      this.statements.deleteRanges.run(datasetId);
      this.statements.forgetColumns.run(now, datasetId);
    }
  }

  private purgeChunk(maxRows: number): number {
    const closed = this.statements.closedRanges.get() as (HiddenRange & { dataset_id: number }) | undefined;
    if (closed) {
      const table = rowsTable(closed.dataset_id);
      const { changes } = this.db
        .prepare(`DELETE FROM ${table} WHERE _row IN (SELECT _row FROM ${table} WHERE _row BETWEEN ? AND ? LIMIT ?)`)
        .run(closed.from_row, closed.to_row, maxRows);
      if (changes < maxRows) this.statements.deleteRange.run(closed.dataset_id, closed.from_row);
      return Math.max(changes, 1);
    }
    for (const { id, visible_from_row } of this.statements.superseded.all() as Array<{ id: number; visible_from_row: number }>) {
      const table = rowsTable(id);
      const { changes } = this.db
        .prepare(`DELETE FROM ${table} WHERE _row IN (SELECT _row FROM ${table} WHERE _row < ? LIMIT ?)`)
        .run(visible_from_row, maxRows);
      if (changes > 0) return changes;
    }
    return 0;
  }
}
