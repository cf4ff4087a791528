import type { Statement } from 'better-sqlite3';
import type { CellValue } from '../../datasets/column-types';
import { keyText } from '../../datasets/key';
import type { KeyedRows } from '../../ports/row-sink';
import type { Db } from './database';
import type { SqliteDatasetStore } from './dataset-store';
import { type HiddenRange, rowsTable, storageColumn, type StoredDataset } from './dataset-tables';

/** Keys looked up per statement: one probe of the key's index each, without a call per key (measured: 0.2 µs a missing key instead of 2.8). */
const KEYS_PER_STATEMENT = 500;

/**
 * Lookups of one attempt by the dataset's key: every row holding one of a burst's keys, through the
 * key's index, many keys per statement; which of them are the job's own and which are visible is
 * decided by row number. The scopes are fixed when prepared: while the job runs no other job writes
 * to the dataset.
 */
export class SqliteKeyLookups {
  private lookup: { statement: Statement; keysPerStatement: number; width: number } | null = null;
  private scope: { ownFromRow: number; visibleFromRow: number; hidden: HiddenRange[]; withVisible: boolean } | null = null;
  private keyIndexes: readonly number[] = [];

  constructor(
    private readonly db: Db,
    private readonly datasets: SqliteDatasetStore,
  ) {}

  prepare(dataset: StoredDataset, keyIndexes: readonly number[], ownFromRow: number, withVisible: boolean): void {
    const width = keyIndexes.length;
    const keysPerStatement = Math.min(KEYS_PER_STATEMENT, Math.floor(32_766 / width));
    const tuple = `(${keyIndexes.map(() => '?').join(', ')})`;
    const join = keyIndexes.map((i, k) => `t.${storageColumn(i)} = keys.column${k + 1}`).join(' AND ');
    const columns = dataset.columns!.map((_, i) => `t.${storageColumn(i)}`).join(', ');
    const sql = `SELECT t._row, ${columns} FROM (VALUES ${Array(keysPerStatement).fill(tuple).join(', ')}) AS keys JOIN ${rowsTable(dataset.id)} AS t ON ${join}`;
    this.lookup = { statement: this.db.prepare(sql).raw(), keysPerStatement, width };
    const hidden = this.datasets.hiddenRanges(dataset.id).filter((range) => range.from_row !== ownFromRow);
    this.scope = { ownFromRow, visibleFromRow: dataset.visibleFromRow, hidden, withVisible };
    this.keyIndexes = keyIndexes;
  }

  keyed(keys: readonly CellValue[][]): KeyedRows {
    if (!this.lookup) throw new Error('key lookups were not prepared');
    const found: KeyedRows = { own: new Set(), visible: new Map() };
    const { statement, keysPerStatement, width } = this.lookup;
    for (let start = 0; start < keys.length; start += keysPerStatement) {
      // A short last chunk is padded with NULL keys, which match no row.
      const params = new Array<CellValue>(keysPerStatement * width).fill(null);
      keys.slice(start, start + keysPerStatement).forEach((key, k) => key.forEach((value, i) => (params[k * width + i] = value)));
      for (const [row, ...values] of statement.all(params) as CellValue[][]) this.place(found, row as number, values);
    }
    for (const text of found.own) found.visible.delete(text); // the job's own row is what a later one meets
    return found;
  }

  private place(found: KeyedRows, row: number, values: CellValue[]): void {
    const { ownFromRow, visibleFromRow, hidden, withVisible } = this.scope!;
    const text = keyText(values, this.keyIndexes);
    if (row >= ownFromRow) found.own.add(text);
    else if (withVisible && row >= visibleFromRow && !hidden.some((range) => row >= range.from_row && row <= (range.to_row ?? Number.MAX_SAFE_INTEGER))) found.visible.set(text, values);
  }
}
