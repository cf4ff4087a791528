import type pg from 'pg';
import type { DatasetColumn } from '../../datasets/columns';
import { type DatasetRecord, type HiddenRange, type StoredDataset, toDataset } from '../shared/dataset-record';
import type { IngestMode } from '../../jobs/model';
import { tryWorkLock } from './database';
import { rowsTable, rowsTableSql } from './dataset-tables';
import { replaceKeyedRows } from './upsert-rows';

// The steps on datasets that the job store and the row sink compose into their own transactions:
// each runs on the caller's connection, inside the caller's transaction (reads also on the pool).

type Db = pg.ClientBase | pg.Pool;

export async function findDataset(db: Db, id: number, lock = false): Promise<StoredDataset | null> {
  const { rows } = await db.query<DatasetRecord>(`SELECT * FROM datasets WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toDataset(rows[0]) : null;
}

export async function findDatasetByName(db: Db, workspace: string, name: string): Promise<StoredDataset | null> {
  const { rows } = await db.query<DatasetRecord>('SELECT * FROM datasets WHERE workspace = $1 AND name = $2', [workspace, name]);
  return rows[0] ? toDataset(rows[0]) : null;
}

export async function hiddenRanges(db: Db, id: number): Promise<HiddenRange[]> {
  const { rows } = await db.query<HiddenRange>('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges WHERE dataset_id = $1 ORDER BY from_row', [id]);
  return rows;
}

async function createRowsTable(db: Db, id: number, columns: readonly DatasetColumn[]): Promise<void> {
  for (const sql of rowsTableSql(id, columns)) await db.query(sql);
}

/** Creates the dataset, with its rows table when the columns are known; a provisional one (for a dry run) never has them here. */
export async function insertDataset(db: Db, workspace: string, name: string, columns: DatasetColumn[] | null, provisional: boolean, now: number): Promise<StoredDataset> {
  const known = provisional ? null : columns;
  const { rows } = await db.query<DatasetRecord>(
    'INSERT INTO datasets (workspace, name, columns, provisional, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING *',
    [workspace, name, known && JSON.stringify(known), provisional, now],
  );
  if (known) await createRowsTable(db, rows[0].id, known);
  return toDataset(rows[0]);
}

/** A real job names a provisional dataset: from now on it is listed and found by name. */
export async function confirmDataset(db: Db, id: number): Promise<void> {
  await db.query('UPDATE datasets SET provisional = false WHERE id = $1 AND provisional', [id]);
}

/** Deletes provisional datasets that no job refers to any more (their dry runs were deleted). */
export async function dropUnusedDatasets(db: Db): Promise<void> {
  await db.query('DELETE FROM datasets WHERE provisional AND columns IS NULL AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.dataset_id = datasets.id)');
}

/** Sets the columns of a dataset created without them, as `jobNum` inferred them; false when another job set them first. */
export async function setColumns(db: Db, id: number, columns: readonly DatasetColumn[], jobNum: number, now: number): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE datasets SET columns = $1, columns_job = $2, updated_at = $3 WHERE id = $4 AND columns IS NULL', [JSON.stringify(columns), jobNum, now, id]);
  if (rowCount === 0) return false;
  await createRowsTable(db, id, columns);
  return true;
}

/** The highest row number ever given out in the dataset. */
async function lastRow(db: Db, id: number): Promise<number> {
  const { rows } = await db.query<{ next_row: number }>('SELECT next_row FROM datasets WHERE id = $1', [id]);
  return rows[0].next_row - 1;
}

async function openRangeOf(db: Db, datasetId: number, jobNum: number): Promise<HiddenRange | undefined> {
  const { rows } = await db.query<HiddenRange>(
    'SELECT job_num, from_row, to_row FROM dataset_hidden_ranges WHERE dataset_id = $1 AND job_num = $2 AND to_row IS NULL',
    [datasetId, jobNum],
  );
  return rows[0];
}

async function deleteRange(db: Db, datasetId: number, fromRow: number): Promise<void> {
  await db.query('DELETE FROM dataset_hidden_ranges WHERE dataset_id = $1 AND from_row = $2', [datasetId, fromRow]);
}

/** Opens the hidden range a job writes into (a resumed attempt keeps its own); returns the first row number it will write. */
export async function beginJobRows(db: Db, datasetId: number, jobNum: number): Promise<number> {
  const existing = await openRangeOf(db, datasetId, jobNum);
  if (existing) return existing.from_row;
  const fromRow = (await lastRow(db, datasetId)) + 1;
  await db.query('INSERT INTO dataset_hidden_ranges (dataset_id, job_num, from_row) VALUES ($1, $2, $3)', [datasetId, jobNum, fromRow]);
  return fromRow;
}

/**
 * Gives out `count` row numbers for a batch, inside the batch's transaction: a rolled-back batch
 * gives them back, and as one job writes to a dataset at a time, a job's rows stay contiguous.
 * Returns the first.
 */
export async function takeRowNumbers(db: Db, datasetId: number, count: number): Promise<number> {
  const { rows } = await db.query<{ first: number }>('UPDATE datasets SET next_row = next_row + $2 WHERE id = $1 RETURNING next_row - $2 AS first', [datasetId, count]);
  return rows[0].first;
}

/**
 * Makes a completed job's rows visible: added to the dataset (APPEND), in place of all others
 * (REPLACE), or in place of the rows with their keys (UPSERT; `rows.inserted` are new).
 */
export async function publishJobRows(db: Db, datasetId: number, jobNum: number, mode: IngestMode, rows: { written: number; inserted: number }, now: number): Promise<void> {
  const range = await openRangeOf(db, datasetId, jobNum);
  if (range && mode === 'UPSERT') await replaceKeyedRows(db, (await findDataset(db, datasetId))!, await hiddenRanges(db, datasetId), range.from_row);
  if (range) await deleteRange(db, datasetId, range.from_row);
  if (mode !== 'REPLACE') {
    await db.query('UPDATE datasets SET row_count = row_count + $1, columns_job = NULL, updated_at = $2 WHERE id = $3', [rows.inserted, now, datasetId]);
    return;
  }
  // Rows below the job's range are superseded; with no range the job wrote nothing, so all rows are.
  const visibleFrom = range ? range.from_row : (await lastRow(db, datasetId)) + 1;
  await db.query('UPDATE datasets SET row_count = $1, visible_from_row = $2, columns_job = NULL, updated_at = $3 WHERE id = $4', [rows.written, visibleFrom, now, datasetId]);
}

/**
 * Undoes what a failed or cancelled job did to the dataset: its rows' range is closed at its last
 * row for the purger (dropped at once when it wrote none), and columns that it set are forgotten
 * while the dataset was never published (a publish clears columns_job), so the dataset is as it was.
 */
export async function abandonJobRows(db: Db, datasetId: number, jobNum: number, now: number): Promise<void> {
  const dataset = await findDataset(db, datasetId);
  if (!dataset?.columns) return;
  const range = await openRangeOf(db, datasetId, jobNum);
  const last = await lastRow(db, datasetId);
  if (range && last < range.from_row) await deleteRange(db, datasetId, range.from_row);
  else if (range) await db.query('UPDATE dataset_hidden_ranges SET to_row = $1 WHERE dataset_id = $2 AND job_num = $3 AND to_row IS NULL', [last, datasetId, jobNum]);
  const { rowCount } = await db.query('SELECT 1 FROM datasets WHERE id = $1 AND columns_job = $2', [datasetId, jobNum]);
  if (rowCount === 1) await forgetColumns(db, datasetId, now);
}

/** Back to a dataset without columns: its table dropped, numbering restarted (nothing of the table is left to collide with). */
async function forgetColumns(db: Db, datasetId: number, now: number): Promise<void> {
  await db.query(`DROP TABLE ${rowsTable(datasetId)}`);
  await db.query('DELETE FROM dataset_hidden_ranges WHERE dataset_id = $1', [datasetId]);
  await db.query(
    'UPDATE datasets SET columns = NULL, columns_job = NULL, row_count = 0, visible_from_row = 0, next_row = 1, updated_at = $1 WHERE id = $2',
    [now, datasetId],
  );
}

/** One purge step: a chunk of a closed hidden range, else of rows a REPLACE superseded; how many rows it removed (at least 1 when it did anything). */
export async function purgeChunk(db: pg.ClientBase, maxRows: number): Promise<number> {
  if (!(await tryWorkLock(db, 'purge'))) return 0; // another instance is purging
  const { rows: closed } = await db.query<HiddenRange & { dataset_id: number }>(
    'SELECT dataset_id, job_num, from_row, to_row FROM dataset_hidden_ranges WHERE to_row IS NOT NULL LIMIT 1 FOR UPDATE SKIP LOCKED',
  );
  if (closed[0]) {
    const { dataset_id: id, from_row: from, to_row: to } = closed[0] as { dataset_id: number; from_row: number; to_row: number };
    const deleted = await deleteSome(db, id, '_row BETWEEN $1 AND $2', [from, to], maxRows);
    if (deleted < maxRows) await deleteRange(db, id, from);
    return Math.max(deleted, 1);
  }
  const { rows: superseded } = await db.query<{ id: number; visible_from_row: number }>(
    'SELECT id, visible_from_row FROM datasets WHERE visible_from_row > 0 AND columns IS NOT NULL ORDER BY id',
  );
  for (const { id, visible_from_row } of superseded) {
    const deleted = await deleteSome(db, id, '_row < $1', [visible_from_row], maxRows);
    if (deleted > 0) return deleted;
  }
  return 0;
}

async function deleteSome(db: Db, datasetId: number, where: string, params: number[], limit: number): Promise<number> {
  const table = rowsTable(datasetId);
  const { rowCount } = await db.query(`DELETE FROM ${table} WHERE _row IN (SELECT _row FROM ${table} WHERE ${where} LIMIT $${params.length + 1})`, [...params, limit]);
  return rowCount ?? 0;
}
