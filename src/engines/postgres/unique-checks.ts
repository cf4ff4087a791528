import type pg from 'pg';
import type { CellValue } from '../../datasets/column-types';
import { hiddenRanges } from './dataset-steps';
import { asWritten, Params, rowsTable, STORAGE_TYPE, storageColumn, type StoredDataset, uniqueScopeSql } from './dataset-tables';

/** The lookup of one UNIQUE column: its query, with the scope's parameters first. */
interface Lookup {
  sql: string;
  scopeParams: unknown[];
}

/**
 * The UNIQUE checks of one attempt: which of a burst's values the rows in scope (the job's own,
 * and unless it replaces them the dataset's visible rows) already hold, in one query per burst.
 * The scope is fixed when prepared: while the job runs no other job writes to the dataset, and the
 * job's own rows are those from its first row on, whenever written.
 *
 * A column without an index (a rule declared by a later job, on a table that has rows) is queried
 * all the same: exact, but each burst scans the dataset's table. Building the index then would
 * block the dataset's writers for the scan's length (or, CONCURRENTLY, not fit in a transaction).
 * The sink keeps the columns' planner statistics fresh (PgTableStatistics).
 */
export class PgUniqueChecks {
  private readonly lookups = new Map<number, Lookup>();

  constructor(private readonly db: pg.ClientBase) {}

  async prepare(dataset: StoredDataset, columnIndexes: readonly number[], ownFromRow: number, replace: boolean): Promise<void> {
    const hidden = await hiddenRanges(this.db, dataset.id);
    for (const i of columnIndexes) {
      const params = new Params();
      const scope = uniqueScopeSql(dataset, hidden, ownFromRow, replace, params);
      const column = storageColumn(i);
      const values = `$${params.values.length + 1}::${STORAGE_TYPE[dataset.columns![i].type]}[]`;
      const sql = `SELECT DISTINCT ${column} AS v FROM ${rowsTable(dataset.id)} WHERE ${column} = ANY(${values}) AND ${scope}`;
      this.lookups.set(i, { sql, scopeParams: params.values });
    }
  }

  async taken(columnIndex: number, values: readonly CellValue[]): Promise<Set<CellValue>> {
    const lookup = this.lookups.get(columnIndex);
    if (!lookup) throw new Error(`column ${columnIndex} was not prepared for UNIQUE checks`);
    const wanted = values.filter((value) => value !== null);
    if (wanted.length === 0) return new Set();
    const { rows } = await this.db.query<{ v: CellValue }>(lookup.sql, [...lookup.scopeParams, wanted]);
    const found = new Set(rows.map((row) => asWritten(row.v)));
    return new Set(values.filter((value) => found.has(value)));
  }
}
