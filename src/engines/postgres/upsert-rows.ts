import type pg from 'pg';
import { keyIndexes } from '../../datasets/key';
import { type HiddenRange, Params, rowsTable, storageColumn, type StoredDataset, visibilitySql } from './dataset-tables';

/**
 * UPSERT's publish, inside the job store's transaction, before the job's range is shown: a row of
 * the job equal to the visible row with its key is dropped (that row stays as it was: unchanged),
 * then every older row with the key of a row of the job is deleted (the job's row replaces it).
 */
export async function replaceKeyedRows(db: pg.ClientBase | pg.Pool, dataset: StoredDataset, hidden: readonly HiddenRange[], fromRow: number): Promise<void> {
  const table = rowsTable(dataset.id);
  const sameKey = keyIndexes(dataset.columns!).map((i) => `old.${storageColumn(i)} = own.${storageColumn(i)}`).join(' AND ');
  const sameValues = dataset.columns!.map((_, i) => `old.${storageColumn(i)} IS NOT DISTINCT FROM own.${storageColumn(i)}`).join(' AND ');
  const params = new Params();
  const from = params.add(fromRow);
  const visible = visibilitySql(dataset, hidden.filter((range) => range.from_row !== fromRow), params);
  await db.query(
    `DELETE FROM ${table} AS own USING (SELECT * FROM ${table} WHERE _row < ${from} AND ${visible}) AS old
     WHERE own._row >= ${from} AND ${sameKey} AND ${sameValues}`,
    params.values,
  );
  await db.query(`DELETE FROM ${table} AS old USING ${table} AS own WHERE own._row >= $1 AND old._row < $1 AND ${sameKey}`, [fromRow]);
}
