import { decodeJson } from './job-record';
import type { ColumnType } from '../../datasets/column-types';
import type { DatasetColumn } from '../../datasets/columns';
import { shapeMismatch } from '../../datasets/columns';
import { keyIndexes, keyMismatch } from '../../datasets/key';
import { IngestError } from '../../ingest/ingest-error';
import type { Dataset } from '../../datasets/model';

/** A dataset as stored: with the first row number that is not superseded by a REPLACE. */
export interface StoredDataset extends Dataset {
  visibleFromRow: number;
  /** Named only by dry runs so far: not listed, not found by name. */
  provisional: boolean;
}

/** Throws unless a job's shape fits the dataset's columns: SCHEMA_MISMATCH (names, types, order), KEY_MISMATCH (its key). */
export function checkShapeFits(columns: readonly DatasetColumn[], shape: readonly DatasetColumn[]): void {
  const mismatch = shapeMismatch(columns, shape);
  if (mismatch) throw new IngestError('SCHEMA_MISMATCH', mismatch);
  const otherKey = keyMismatch(columns, shape);
  if (otherKey) throw new IngestError('KEY_MISMATCH', otherKey);
}

/** A range of a dataset's rows that is not visible: a job's while it writes (toRow null), or one that failed or was cancelled. */
export interface HiddenRange {
  job_num: number;
  from_row: number;
  to_row: number | null;
}

/** A row of `datasets`, as every engine stores it (columns: JSON text, or parsed jsonb). */
export interface DatasetRecord {
  id: number;
  workspace: string;
  name: string;
  columns: string | DatasetColumn[] | null;
  row_count: number;
  visible_from_row: number;
  provisional: number | boolean;
  created_at: number;
  updated_at: number;
}

export function toDataset(record: DatasetRecord): StoredDataset {
  return {
    id: record.id,
    workspace: record.workspace,
    name: record.name,
    columns: record.columns === null ? null : decodeJson(record.columns),
    rowCount: record.row_count,
    visibleFromRow: record.visible_from_row,
    provisional: Boolean(record.provisional),
    createdAt: record.created_at,
    updatedAt: record.updated_at,
  };
}

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

export function indexName(datasetId: number, columnIndex: number): string {
  return `${rowsTable(datasetId)}_${storageColumn(columnIndex)}`;
}

/**
 * The table of a dataset's rows in an engine's types, `_row` defined as `rowKey`, with an index for
 * each UNIQUE column and one for the key: built while the table is empty they cost nothing, whereas
 * later they would scan the whole table and hold back its writers meanwhile.
 */
export function rowsTableDdl(id: number, columns: readonly DatasetColumn[], types: Record<ColumnType, string>, rowKey: string): string[] {
  const definitions = columns.map((column, i) => `${storageColumn(i)} ${types[column.type]}`);
  const key = keyIndexes(columns);
  return [
    `CREATE TABLE IF NOT EXISTS ${rowsTable(id)} (_row ${rowKey}, ${definitions.join(', ')})`,
    ...columns.flatMap((column, i) => (column.unique ? [`CREATE INDEX IF NOT EXISTS ${indexName(id, i)} ON ${rowsTable(id)} (${storageColumn(i)})`] : [])),
    ...(key.length > 0 ? [`CREATE INDEX IF NOT EXISTS ${rowsTable(id)}_key ON ${rowsTable(id)} (${key.map(storageColumn).join(', ')})`] : []),
  ];
}
