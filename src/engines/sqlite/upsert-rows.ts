import type { Db } from './database';
import { keyIndexes } from '../../datasets/key';
import { type HiddenRange, rowsTable, storageColumn, type StoredDataset, visibilitySql } from './dataset-tables';

/**
 * UPSERT's publish, inside the job store's transaction, before the job's range is shown: a row of
 * the job equal to the visible row with its key is dropped (that row stays as it was: unchanged),
 * then every older row with the key of a row of the job is deleted (the job's row replaces it).
 */
export function replaceKeyedRows(db: Db, dataset: StoredDataset, hidden: readonly HiddenRange[], fromRow: number): void {
  const table = rowsTable(dataset.id);
  const sameKey = keyIndexes(dataset.columns!).map((i) => `old.${storageColumn(i)} = own.${storageColumn(i)}`).join(' AND ');
  const sameValues = dataset.columns!.map((_, i) => `old.${storageColumn(i)} IS own.${storageColumn(i)}`).join(' AND ');
  const visible = visibilitySql(dataset, hidden.filter((range) => range.from_row !== fromRow));
  db.prepare(
    `DELETE FROM ${table} WHERE _row IN (
       SELECT own._row FROM ${table} AS own JOIN (SELECT * FROM ${table} WHERE _row < ? AND ${visible.sql}) AS old ON ${sameKey}
       WHERE own._row >= ? AND ${sameValues})`,
  ).run(fromRow, ...visible.params, fromRow);
  db.prepare(`DELETE FROM ${table} WHERE _row IN (SELECT old._row FROM ${table} AS own JOIN ${table} AS old ON ${sameKey} WHERE own._row >= ? AND old._row < ?)`).run(fromRow, fromRow);
}
