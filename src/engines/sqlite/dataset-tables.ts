import type { CellValue, ColumnType } from '../../datasets/column-types';
import type { DatasetColumn } from '../../datasets/columns';
import { type HiddenRange, rowsTableDdl, type StoredDataset } from '../shared/dataset-record';

export { type HiddenRange, indexName, rowsTable, storageColumn, type StoredDataset } from '../shared/dataset-record';

export const STORAGE_TYPE: Record<ColumnType, string> = {
  STRING: 'TEXT',
  INTEGER: 'INTEGER',
  DECIMAL: 'REAL',
  BOOLEAN: 'INTEGER',
  DATE: 'TEXT',
  DATETIME: 'TEXT',
  EMAIL: 'TEXT',
};

/** The table of a dataset's rows: `_row` numbered by SQLite, never reused (AUTOINCREMENT). */
export function rowsTableSql(id: number, columns: readonly DatasetColumn[]): string[] {
  return rowsTableDdl(id, columns, STORAGE_TYPE, 'INTEGER PRIMARY KEY AUTOINCREMENT');
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
