import type { CellValue, ColumnType } from '../../datasets/column-types';
import type { DatasetColumn } from '../../datasets/columns';
import type { Dataset } from '../../datasets/model';

/** A dataset as stored: with the first row number that is not superseded by a REPLACE. */
export interface StoredDataset extends Dataset {
  visibleFromRow: number;
}

/** A range of a dataset's rows that is not visible: a job's while it writes (toRow null), or one that failed or was cancelled. */
export interface HiddenRange {
  job_num: number;
  from_row: number;
  to_row: number | null;
}

export const STORAGE_TYPE: Record<ColumnType, string> = {
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

export function indexName(datasetId: number, columnIndex: number): string {
  return `${rowsTable(datasetId)}_${storageColumn(columnIndex)}`;
}

/** The table of a dataset's rows, with an index for each UNIQUE column (built while the table is empty, it costs nothing). */
export function rowsTableSql(id: number, columns: readonly DatasetColumn[]): string[] {
  const definitions = columns.map((column, i) => `${storageColumn(i)} ${STORAGE_TYPE[column.type]}`);
  return [
    `CREATE TABLE IF NOT EXISTS ${rowsTable(id)} (_row INTEGER PRIMARY KEY AUTOINCREMENT, ${definitions.join(', ')})`,
    ...columns.flatMap((column, i) => (column.unique ? [`CREATE INDEX IF NOT EXISTS ${indexName(id, i)} ON ${rowsTable(id)} (${storageColumn(i)})`] : [])),
  ];
}

export function fromStorage(type: ColumnType, value: CellValue): CellValue {
  return type === 'BOOLEAN' && value !== null ? value === 1 : value;
}

/** SQL that keeps only the rows of `_row` that are neither superseded nor hidden. */
export function visibilitySql(dataset: StoredDataset, hidden: readonly HiddenRange[]): { sql: string; params: number[] } {
  const clauses = ['_row >= ?'];
  const params = [dataset.visibleFromRow];
  for (const range of hidden) {
    clauses.push('NOT (_row BETWEEN ? AND ?)');
    params.push(range.from_row, range.to_row ?? Number.MAX_SAFE_INTEGER);
  }
  return { sql: clauses.join(' AND '), params };
}
