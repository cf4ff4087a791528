import type pg from 'pg';
import type { CellValue } from '../../datasets/column-types';
import { keyText } from '../../datasets/key';
import type { KeyedRows } from '../../ports/row-sink';
import { hiddenRanges } from './dataset-steps';
import { asWritten, Params, rowsTable, STORAGE_TYPE, storageColumn, type StoredDataset, visibilitySql } from './dataset-tables';

/** A lookup of a burst's keys: its query, with the scope's parameters after one array per key column. */
interface Lookup {
  sql: string;
  scopeParams: unknown[];
}

/**
 * Lookups of one attempt by the dataset's key, a burst's keys in one query per scope, joined to
 * the table through the key's index. The scopes are fixed when prepared: while the job runs no
 * other job writes to the dataset.
 */
export class PgKeyLookups {
  private keyIndexes: readonly number[] = [];
  private own: Lookup | null = null;
  private visible: Lookup | null = null;

  constructor(private readonly db: pg.ClientBase) {}

  async prepare(dataset: StoredDataset, keyIndexes: readonly number[], ownFromRow: number, withVisible: boolean): Promise<void> {
    this.keyIndexes = keyIndexes;
    this.own = lookup(dataset, keyIndexes, (params) => `_row >= ${params.add(ownFromRow)}`);
    if (!withVisible) return;
    const hidden = (await hiddenRanges(this.db, dataset.id)).filter((range) => range.from_row !== ownFromRow);
    this.visible = lookup(dataset, keyIndexes, (params) => `_row < ${params.add(ownFromRow)} AND ${visibilitySql(dataset, hidden, params)}`);
  }

  async keyed(keys: readonly CellValue[][]): Promise<KeyedRows> {
    if (!this.own) throw new Error('key lookups were not prepared');
    const found: KeyedRows = { own: new Set(), visible: new Map() };
    if (keys.length === 0) return found;
    for (const row of await this.rows(this.own, keys)) found.own.add(keyText(row, this.keyIndexes));
    const others = keys.filter((key) => !found.own.has(JSON.stringify(key)));
    if (this.visible && others.length > 0) {
      for (const row of await this.rows(this.visible, others)) found.visible.set(keyText(row, this.keyIndexes), row);
    }
    return found;
  }

  private async rows(lookup: Lookup, keys: readonly CellValue[][]): Promise<CellValue[][]> {
    const columns = this.keyIndexes.map((_, k) => keys.map((key) => key[k]));
    const { rows } = await this.db.query<CellValue[]>({ text: lookup.sql, values: [...columns, ...lookup.scopeParams], rowMode: 'array' });
    return rows.map((row) => row.map(asWritten));
  }
}

/** Every column of the rows in `scope` (over `_row`, which only the table has) whose key is among the arrays given first (one per key column). */
function lookup(dataset: StoredDataset, keyIndexes: readonly number[], scope: (params: Params) => string): Lookup {
  const params = new Params();
  const arrays = keyIndexes.map((i) => `${params.add(null)}::${STORAGE_TYPE[dataset.columns![i].type]}[]`);
  const names = keyIndexes.map((_, k) => `k${k}`);
  const join = keyIndexes.map((i, k) => `t.${storageColumn(i)} = keys.${names[k]}`).join(' AND ');
  const where = scope(params);
  const columns = dataset.columns!.map((_, i) => `t.${storageColumn(i)}`).join(', ');
  const sql = `SELECT ${columns} FROM unnest(${arrays.join(', ')}) AS keys (${names.join(', ')}) JOIN ${rowsTable(dataset.id)} t ON ${join} WHERE ${where}`;
  return { sql, scopeParams: params.values.slice(keyIndexes.length) };
}
