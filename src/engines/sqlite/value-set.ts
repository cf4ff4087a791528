import type { Statement } from 'better-sqlite3';
import type { CellValue } from '../../datasets/column-types';
import type { Db } from './database';

/** Row numbers copied per step: each step is one short read of the dataset, and the worker's event loop turns between steps. */
const ROWS_PER_STEP = 50_000;

/** Where the values come from: a dataset table's column and the rows in scope, as SQL over `_row`. */
export interface ValueSource {
  table: string;
  column: string;
  storageType: string;
  scope: { sql: string; params: number[] };
  lastRow: number;
}

/**
 * The values a job must not repeat in one UNIQUE column whose dataset table has no index for it (a
 * later job declared the rule on a dataset with rows). Building an index there would hold the
 * database's write lock for its whole run and stall every other writer; instead the values go into a
 * table of the job's own connection's temporary database, copied from the dataset by reads alone
 * (WAL readers block no writer) in steps, and indexed there once copied: appending and then sorting
 * once is several times faster than inserting random values into an index (3M uuids: 3 s, not 22).
 * The job's own values are added as its batches commit.
 */
export class SqliteValueSet {
  private readonly lookup: Statement;
  private readonly insert: Statement;

  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly source: ValueSource,
  ) {
    db.exec(`DROP TABLE IF EXISTS temp.${name}; CREATE TABLE temp.${name} (v ${source.storageType})`);
    this.lookup = db.prepare(`SELECT 1 FROM temp.${name} WHERE v = ? LIMIT 1`).pluck();
    this.insert = db.prepare(`INSERT INTO temp.${name} (v) VALUES (?)`);
  }

  /** Copies the values of the rows in scope, a step at a time, yielding to the event loop between steps; then indexes them. */
  async fill(): Promise<void> {
    const { table, column, scope, lastRow } = this.source;
    const copy = this.db.prepare(`INSERT INTO temp.${this.name} (v) SELECT ${column} FROM ${table} WHERE _row > ? AND _row <= ? AND ${column} IS NOT NULL AND (${scope.sql})`);
    for (let from = 0; from < lastRow; from += ROWS_PER_STEP) {
      copy.run(from, from + ROWS_PER_STEP, ...scope.params);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.db.exec(`CREATE INDEX temp.${this.name}_v ON ${this.name} (v)`);
  }

  has(value: CellValue): boolean {
    return this.lookup.get(value) !== undefined;
  }

  /** Adds values the job writes, inside the transaction that writes them (into the temporary database only). */
  add(value: CellValue): void {
    this.insert.run(value);
  }
}
