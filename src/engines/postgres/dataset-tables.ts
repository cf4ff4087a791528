import type { CellValue, ColumnType } from '../../datasets/column-types';
import type { DatasetColumn } from '../../datasets/columns';
import { type HiddenRange, rowsTableDdl, type StoredDataset } from '../shared/dataset-record';

export { type HiddenRange, indexName, rowsTable, storageColumn, type StoredDataset } from '../shared/dataset-record';

/** BOOLEAN is a real boolean: the sink's 1 and 0 are valid boolean input, and read back as true and false. */
export const STORAGE_TYPE: Record<ColumnType, string> = {
  STRING: 'text',
  INTEGER: 'bigint',
  DECIMAL: 'double precision',
  BOOLEAN: 'boolean',
  DATE: 'text',
  DATETIME: 'text',
  EMAIL: 'text',
};

/** The table of a dataset's rows: `_row` given by the writer (from `datasets.next_row`), not by a sequence. */
export function rowsTableSql(id: number, columns: readonly DatasetColumn[]): string[] {
  return rowsTableDdl(id, columns, STORAGE_TYPE, 'bigint PRIMARY KEY');
}

/** Positional parameters of a statement being built: `add` returns the placeholder of a value. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** SQL that keeps only the rows of `_row` that are neither superseded nor hidden. */
export function visibilitySql(dataset: StoredDataset, hidden: readonly HiddenRange[], params: Params): string {
  const clauses = [`_row >= ${params.add(dataset.visibleFromRow)}`];
  for (const range of hidden) {
    clauses.push(`NOT (_row BETWEEN ${params.add(range.from_row)} AND ${params.add(range.to_row ?? Number.MAX_SAFE_INTEGER)})`);
  }
  return clauses.join(' AND ');
}

/**
 * The rows whose UNIQUE values a job must not repeat: its own (from `ownFromRow` on) and, unless it
 * replaces them, the visible ones (hidden ranges of other jobs excluded).
 */
export function uniqueScopeSql(dataset: StoredDataset, hidden: readonly HiddenRange[], ownFromRow: number, replace: boolean, params: Params): string {
  const own = `_row >= ${params.add(ownFromRow)}`;
  if (replace) return own;
  const others = visibilitySql(dataset, hidden.filter((range) => range.from_row !== ownFromRow), params);
  return `(${own} OR (${others}))`;
}

/** A value as the table gives it back, in the form the sink wrote it (BOOLEAN as 1 or 0), to compare with the sink's values. */
export function asWritten(value: CellValue): CellValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}
