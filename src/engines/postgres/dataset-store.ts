import type { CellValue } from '../../datasets/column-types';
import { type DatasetRecord, type StoredDataset, toDataset } from '../shared/dataset-record';
import type { DatasetRow } from '../../datasets/model';
import type { DatasetStore } from '../../ports/dataset-store';
import { type Pool, transaction } from './database';
import { findDataset, findDatasetByName, hiddenRanges, purgeChunk } from './dataset-steps';
import { Params, rowsTable, visibilitySql } from './dataset-tables';

/** The dataset store on PostgreSQL; the steps the job store and row sink compose into their transactions are in dataset-steps. */
export class PgDatasetStore implements DatasetStore {
  constructor(private readonly pool: Pool) {}

  async get(workspace: string, name: string): Promise<StoredDataset | null> {
    const dataset = await findDatasetByName(this.pool, workspace, name);
    return dataset?.provisional ? null : dataset;
  }

  async idOf(workspace: string, name: string): Promise<number | null> {
    return (await findDatasetByName(this.pool, workspace, name))?.id ?? null;
  }

  async getById(id: number): Promise<StoredDataset | null> {
    return findDataset(this.pool, id);
  }

  async list(workspace: string): Promise<StoredDataset[]> {
    const { rows } = await this.pool.query<DatasetRecord>('SELECT * FROM datasets WHERE workspace = $1 AND NOT provisional ORDER BY name', [workspace]);
    return rows.map(toDataset);
  }

  /** One transaction (REPEATABLE READ): the dataset, its hidden ranges and its rows are read as of one snapshot. */
  async rows(dataset: { id: number }, afterRow: number, limit: number): Promise<DatasetRow[]> {
    return transaction(this.pool, async (db) => {
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const stored = await findDataset(db, dataset.id);
      if (!stored?.columns) return [];
      const columns = stored.columns;
      const params = new Params();
      const visible = visibilitySql(stored, await hiddenRanges(db, stored.id), params);
      const { rows } = await db.query<CellValue[]>({
        text: `SELECT * FROM ${rowsTable(stored.id)} WHERE _row > ${params.add(afterRow)} AND ${visible} ORDER BY _row LIMIT ${params.add(limit)}`,
        values: params.values,
        rowMode: 'array',
      });
      return rows.map(([row, ...cells]) => ({ row: row as number, values: Object.fromEntries(columns.map((column, i) => [column.name, cells[i]])) }));
    });
  }

  async purgeStep(maxRows: number): Promise<number> {
    return transaction(this.pool, (db) => purgeChunk(db, maxRows));
  }
}
