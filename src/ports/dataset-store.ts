import type { Dataset, DatasetRow } from '../datasets/model';

/**
 * The catalog of datasets and their visible rows. A job's rows become visible only when the job
 * store commits it COMPLETED; what a failed or cancelled job left is deleted by `purgeStep`.
 */
export interface DatasetStore {
  /** The dataset of that name; null too while only dry runs have named it (a provisional dataset). */
  get(workspace: string, name: string): Promise<Dataset | null>;
  /** The id of the dataset record of that name, provisional or not: what jobs are filtered by. */
  idOf(workspace: string, name: string): Promise<number | null>;
  getById(id: number): Promise<Dataset | null>;
  /** The workspace's datasets, by name. */
  list(workspace: string): Promise<Dataset[]>;
  /** Up to `limit` visible rows after row number `afterRow`, in row order. */
  rows(dataset: Dataset, afterRow: number, limit: number): Promise<DatasetRow[]>;
  /**
   * Deletes up to about `maxRows` rows that can never become visible again (left by failed or
   * cancelled jobs, superseded by a REPLACE), in one short step; 0 when nothing is left to purge.
   */
  purgeStep(maxRows: number): Promise<number>;
}
