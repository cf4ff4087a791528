import type { CellValue } from '../../datasets/column-types';
import type { Db } from './database';
import type { SqliteDatasetStore } from './dataset-store';
import { indexName, rowsTable, STORAGE_TYPE, storageColumn, type StoredDataset, visibilitySql } from './dataset-tables';
import { SqliteValueSet } from './value-set';

/**
 * The UNIQUE checks of one attempt: for each column, a lookup of whether the rows in scope (the
 * job's own, and unless it replaces them the dataset's visible rows) hold a value. A column the
 * dataset's table has an index for is looked up there; one without (a rule declared by a later job)
 * in a value set private to the attempt's connection, which takes the job's values as they are written.
 */
export class SqliteUniqueChecks {
  private readonly lookups = new Map<number, (value: CellValue) => boolean>();
  private readonly valueSets = new Map<number, SqliteValueSet>();
  private readonly hasIndex;

  constructor(
    private readonly db: Db,
    private readonly datasets: SqliteDatasetStore,
  ) {
    this.hasIndex = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).pluck();
  }

  async prepare(dataset: StoredDataset, columnIndexes: readonly number[], ownFromRow: number, replace: boolean): Promise<void> {
    const scope = this.scope(dataset, ownFromRow, replace);
    for (const i of columnIndexes) {
      if (this.hasIndex.get(indexName(dataset.id, i)) !== undefined) {
        const statement = this.db.prepare(`SELECT 1 FROM ${rowsTable(dataset.id)} WHERE ${storageColumn(i)} = ? AND ${scope.sql} LIMIT 1`).pluck();
        this.lookups.set(i, (value) => statement.get(value, ...scope.params) !== undefined);
        continue;
      }
      const source = { table: rowsTable(dataset.id), column: storageColumn(i), storageType: STORAGE_TYPE[dataset.columns![i].type], scope, lastRow: this.datasets.lastRow(dataset.id) };
      const values = new SqliteValueSet(this.db, `unique_values_${dataset.id}_${i}`, source);
      await values.fill();
      this.valueSets.set(i, values);
      this.lookups.set(i, (value) => values.has(value));
    }
  }

  taken(columnIndex: number, values: readonly CellValue[]): Set<CellValue> {
    const lookup = this.lookups.get(columnIndex);
    if (!lookup) throw new Error(`column ${columnIndex} was not prepared for UNIQUE checks`);
    return new Set(values.filter(lookup));
  }

  /** Adds the values of rows being written to the value sets, inside the transaction that writes them. */
  written(rows: readonly CellValue[][]): void {
    for (const [columnIndex, values] of this.valueSets) {
      for (const row of rows) if (row[columnIndex] !== null) values.add(row[columnIndex]);
    }
  }

  /** The rows whose UNIQUE values a job must not repeat: its own (from `ownFromRow` on) and, unless it replaces them, the visible ones. */
  private scope(dataset: StoredDataset, ownFromRow: number, replace: boolean): { sql: string; params: number[] } {
    if (replace) return { sql: '_row >= ?', params: [ownFromRow] };
    const others = visibilitySql(dataset, this.datasets.hiddenRanges(dataset.id).filter((r) => r.from_row !== ownFromRow));
    return { sql: `(_row >= ? OR (${others.sql}))`, params: [ownFromRow, ...others.params] };
  }
}
