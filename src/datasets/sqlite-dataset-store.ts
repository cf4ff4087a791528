import { type Db, writeTransaction } from '../storage/sqlite';
import type { IngestMode } from '../jobs/model';
import type { CellValue, ColumnType } from './column-types';
import type { DatasetColumn } from './columns';
import { SqliteValueSet } from './sqlite-value-set';

export interface Dataset {
  id: number;
  workspace: string;
  name: string;
  columns: DatasetColumn[] | null; // null until the first job has inferred them
  rowCount: number;
  visibleFromRow: number;
  createdAt: number;
  updatedAt: number;
}

export interface DatasetRow {
  row: number;
  values: Record<string, CellValue>;
}

interface HiddenRange {
  job_num: number;
  from_row: number;
  to_row: number | null;
}

interface DatasetRecord {
  id: number;
  workspace: string;
  name: string;
  columns: string | null;
  row_count: number;
  visible_from_row: number;
  created_at: number;
  updated_at: number;
}

const STORAGE_TYPE: Record<ColumnType, string> = {
  STRING: 'TEXT',
  INTEGER: 'INTEGER',
  DECIMAL: 'REAL',
  BOOLEAN: 'INTEGER',
  DATE: 'TEXT',
  DATETIME: 'TEXT',
  EMAIL: 'TEXT',
};

/**
 * Dataset rows live in one table per dataset, named after its id, with columns c0..cN: user-given
 * names never reach SQL. Rows are numbered by `_row`, never reused; a job's rows form one contiguous
 * range because only one job writes to a dataset at a time.
 */
export function rowsTable(datasetId: number): string {
  return `dataset_rows_${datasetId}`;
}

export function storageColumn(index: number): string {
  return `c${index}`;
}

function indexName(datasetId: number, columnIndex: number): string {
  return `${rowsTable(datasetId)}_${storageColumn(columnIndex)}`;
}

function toDataset(record: DatasetRecord): Dataset {
  return {
    id: record.id,
    workspace: record.workspace,
    name: record.name,
    columns: record.columns === null ? null : JSON.parse(record.columns),
    rowCount: record.row_count,
    visibleFromRow: record.visible_from_row,
    createdAt: record.created_at,
    updatedAt: record.updated_at,
  };
}

function fromStorage(type: ColumnType, value: CellValue): CellValue {
  return type === 'BOOLEAN' && value !== null ? value === 1 : value;
}

/** SQL that keeps only the rows of `_row` that are neither superseded nor hidden. */
function visibilitySql(dataset: Dataset, hidden: readonly HiddenRange[]): { sql: string; params: number[] } {
  const clauses = ['_row >= ?'];
  const params = [dataset.visibleFromRow];
  for (const range of hidden) {
    clauses.push('NOT (_row BETWEEN ? AND ?)');
    params.push(range.from_row, range.to_row ?? Number.MAX_SAFE_INTEGER);
  }
  return { sql: clauses.join(' AND '), params };
}

export class SqliteDatasetStore {
  private readonly statements;

  constructor(private readonly db: Db) {
    this.statements = {
      byName: db.prepare('SELECT * FROM datasets WHERE workspace = ? AND name = ?'),
      byId: db.prepare('SELECT * FROM datasets WHERE id = ?'),
      list: db.prepare('SELECT * FROM datasets WHERE workspace = ? ORDER BY name'),
      insert: db.prepare('INSERT INTO datasets (workspace, name, columns, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
      setColumns: db.prepare('UPDATE datasets SET columns = ?, columns_job = ?, updated_at = ? WHERE id = ? AND columns IS NULL'),
      columnsSetBy: db.prepare('SELECT 1 FROM datasets WHERE id = ? AND columns_job = ?'),
      anyCompleted: db.prepare(`SELECT 1 FROM jobs WHERE dataset_id = ? AND status = 'COMPLETED' LIMIT 1`),
      forgetColumns: db.prepare('UPDATE datasets SET columns = NULL, columns_job = NULL, row_count = 0, visible_from_row = 0, updated_at = ? WHERE id = ?'),
      deleteRanges: db.prepare('DELETE FROM dataset_hidden_ranges WHERE dataset_id = ?'),
      hidden: db.prepare('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges WHERE dataset_id = ? ORDER BY from_row'),
      openRangeOfJob: db.prepare('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges WHERE dataset_id = ? AND job_num = ? AND to_row IS NULL'),
      insertHidden: db.prepare('INSERT INTO dataset_hidden_ranges (dataset_id, job_num, from_row) VALUES (?, ?, ?)'),
      deleteRange: db.prepare('DELETE FROM dataset_hidden_ranges WHERE dataset_id = ? AND from_row = ?'),
      closeHidden: db.prepare('UPDATE dataset_hidden_ranges SET to_row = ? WHERE dataset_id = ? AND job_num = ? AND to_row IS NULL'),
      commitAppend: db.prepare('UPDATE datasets SET row_count = row_count + ?, updated_at = ? WHERE id = ?'),
      commitReplace: db.prepare('UPDATE datasets SET row_count = ?, visible_from_row = ?, updated_at = ? WHERE id = ?'),
      closedRanges: db.prepare('SELECT dataset_id, job_num, from_row, to_row FROM dataset_hidden_ranges WHERE to_row IS NOT NULL LIMIT 1'),
      lastRow: db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?'),
      superseded: db.prepare('SELECT id, visible_from_row FROM datasets WHERE visible_from_row > 0 AND columns IS NOT NULL'),
      index: db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).pluck(),
    };
  }

  get(workspace: string, name: string): Dataset | null {
    const record = this.statements.byName.get(workspace, name) as DatasetRecord | undefined;
    return record ? toDataset(record) : null;
  }

  getById(id: number): Dataset | null {
    const record = this.statements.byId.get(id) as DatasetRecord | undefined;
    return record ? toDataset(record) : null;
  }

  list(workspace: string): Dataset[] {
    return (this.statements.list.all(workspace) as DatasetRecord[]).map(toDataset);
  }

  /** Creates the dataset, with its rows table when the columns are known. */
  create(workspace: string, name: string, columns: DatasetColumn[] | null, now: number): Dataset {
    const { lastInsertRowid } = this.statements.insert.run(workspace, name, columns && JSON.stringify(columns), now, now);
    const id = Number(lastInsertRowid);
    if (columns) this.createRowsTable(id, columns);
    return this.getById(id)!;
  }

  /** Sets the columns of a dataset created without them, as `jobNum` inferred them; false when another job set them first. */
  setColumns(id: number, columns: DatasetColumn[], jobNum: number, now: number): boolean {
    if (this.statements.setColumns.run(JSON.stringify(columns), jobNum, now, id).changes === 0) return false;
    this.createRowsTable(id, columns);
    return true;
  }

  /**
   * Creates the rows table, with an index for each UNIQUE column: built now, on an empty table, it
   * costs nothing. (Built later, on a table with rows, CREATE INDEX would hold the write lock for its
   * whole run: a rule declared later is checked through a value set instead, see uniqueValues.)
   */
  private createRowsTable(id: number, columns: readonly DatasetColumn[]): void {
    const definitions = columns.map((column, i) => `${storageColumn(i)} ${STORAGE_TYPE[column.type]}`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${rowsTable(id)} (_row INTEGER PRIMARY KEY AUTOINCREMENT, ${definitions.join(', ')})`);
    columns.forEach((column, i) => {
      if (column.unique) this.db.exec(`CREATE INDEX IF NOT EXISTS ${indexName(id, i)} ON ${rowsTable(id)} (${storageColumn(i)})`);
    });
  }

  /** Whether UNIQUE checks on the column can be lookups in an index of the dataset's table. */
  hasIndex(id: number, columnIndex: number): boolean {
    return this.statements.index.get(indexName(id, columnIndex)) !== undefined;
  }

  /** The highest row number ever given out in the dataset (AUTOINCREMENT never reuses one). */
  private lastRow(id: number): number {
    const row = this.statements.lastRow.get(rowsTable(id)) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Opens the hidden range a job writes into; returns the first row number it will write. */
  beginJobRows(datasetId: number, jobNum: number): number {
    const existing = this.statements.openRangeOfJob.get(datasetId, jobNum) as HiddenRange | undefined;
    if (existing) return existing.from_row;
    const fromRow = this.lastRow(datasetId) + 1;
    this.statements.insertHidden.run(datasetId, jobNum, fromRow);
    return fromRow;
  }

  /** Makes a completed job's rows visible: added to the dataset (APPEND) or in place of all others (REPLACE). */
  commitJobRows(datasetId: number, jobNum: number, mode: IngestMode, rowsWritten: number, now: number): void {
    const range = this.statements.openRangeOfJob.get(datasetId, jobNum) as HiddenRange | undefined;
    if (range) this.statements.deleteRange.run(datasetId, range.from_row);
    if (mode === 'APPEND') {
      this.statements.commitAppend.run(rowsWritten, now, datasetId);
    } else {
      // Rows below the job's range are superseded; with no range the job wrote nothing, so all rows are.
      const visibleFrom = range ? range.from_row : this.lastRow(datasetId) + 1;
      this.statements.commitReplace.run(rowsWritten, visibleFrom, now, datasetId);
    }
  }

  /**
   * Undoes what a failed or cancelled job did to the dataset: its rows' range is closed at its last
   * row for the purger (dropped at once when it wrote none), and columns that its own inference set
   * are forgotten while no job of the dataset has completed, so the dataset is as it was.
   */
  abandonJobRows(datasetId: number, jobNum: number): void {
    const dataset = this.getById(datasetId);
    if (!dataset?.columns) return;
    const range = this.statements.openRangeOfJob.get(datasetId, jobNum) as HiddenRange | undefined;
    const lastRow = this.lastRow(datasetId);
    if (range && lastRow < range.from_row) this.statements.deleteRange.run(datasetId, range.from_row);
    else if (range) this.statements.closeHidden.run(lastRow, datasetId, jobNum);
    if (this.statements.columnsSetBy.get(datasetId, jobNum) && !this.statements.anyCompleted.get(datasetId)) {
      this.db.exec(`DROP TABLE ${rowsTable(datasetId)}`);
      this.statements.deleteRanges.run(datasetId);
      this.statements.forgetColumns.run(Date.now(), datasetId);
    }
  }

  rows(dataset: Dataset, afterRow: number, limit: number): DatasetRow[] {
    if (!dataset.columns) return [];
    const columns = dataset.columns;
    const visible = visibilitySql(dataset, this.statements.hidden.all(dataset.id) as HiddenRange[]);
    const records = this.db
      .prepare(`SELECT * FROM ${rowsTable(dataset.id)} WHERE _row > ? AND ${visible.sql} ORDER BY _row LIMIT ?`)
      .raw()
      .all(afterRow, ...visible.params, limit) as CellValue[][];
    return records.map(([row, ...cells]) => ({
      row: row as number,
      values: Object.fromEntries(columns.map((column, i) => [column.name, fromStorage(column.type, cells[i])])),
    }));
  }

  /**
   * The rows whose UNIQUE values a job must not repeat: its own (from `ownFromRow` on) and, unless it
   * replaces them, the dataset's visible rows.
   */
  private uniqueScope(dataset: Dataset, ownFromRow: number, replace: boolean): { sql: string; params: number[] } {
    if (replace) return { sql: '_row >= ?', params: [ownFromRow] };
    const others = visibilitySql(dataset, (this.statements.hidden.all(dataset.id) as HiddenRange[]).filter((r) => r.from_row !== ownFromRow));
    return { sql: `(_row >= ? OR (${others.sql}))`, params: [ownFromRow, ...others.params] };
  }

  /** A lookup, in the column's index, of whether a UNIQUE column already holds a value among the rows in scope. */
  uniqueLookup(dataset: Dataset, columnIndex: number, ownFromRow: number, replace: boolean): (value: CellValue) => boolean {
    const scope = this.uniqueScope(dataset, ownFromRow, replace);
    const statement = this.db.prepare(`SELECT 1 FROM ${rowsTable(dataset.id)} WHERE ${storageColumn(columnIndex)} = ? AND ${scope.sql} LIMIT 1`).pluck();
    return (value) => statement.get(value, ...scope.params) !== undefined;
  }

  /** The values in scope of a UNIQUE column that has no index, as a set private to this connection (to be filled before use). */
  uniqueValues(dataset: Dataset, columnIndex: number, ownFromRow: number, replace: boolean): SqliteValueSet {
    const source = {
      table: rowsTable(dataset.id),
      column: storageColumn(columnIndex),
      storageType: STORAGE_TYPE[dataset.columns![columnIndex].type],
      scope: this.uniqueScope(dataset, ownFromRow, replace),
      lastRow: this.lastRow(dataset.id),
    };
    return new SqliteValueSet(this.db, `unique_values_${dataset.id}_${columnIndex}`, source);
  }

  /**
   * Deletes up to `maxRows` rows that can never become visible again (abandoned ranges and rows
   * superseded by a REPLACE). Returns how many it deleted; 0 means nothing is left to purge.
   */
  purgeStep(maxRows: number): number {
    return writeTransaction(this.db, () => this.purgeChunk(maxRows));
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
