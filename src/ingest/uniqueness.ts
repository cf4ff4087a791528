import type { CellValue } from '../datasets/column-types';
import type { Dataset, SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { SqliteValueSet } from '../datasets/sqlite-value-set';
import type { UniquenessCheck } from './validate';

/**
 * UNIQUE values a job must not repeat: those of the rows that will be visible beside its own (none
 * for REPLACE), those it has written, and those of its batch not yet written. Memory holds only the
 * current batch; the rest is a lookup in the column's index or, for a column the dataset's table has
 * no index for, in a value set private to the job.
 */
export class DatasetUniqueness implements UniquenessCheck {
  private readonly batch = new Map<number, Set<CellValue>>();
  private readonly lookups = new Map<number, (value: CellValue) => boolean>();
  private readonly valueSets = new Map<number, SqliteValueSet>();

  constructor(
    private readonly datasets: SqliteDatasetStore,
    private readonly dataset: Dataset,
    private readonly ownFromRow: number,
    private readonly replace: boolean,
  ) {}

  /** Readies the checks of these columns before the first row: an index lookup, or a value set filled from the dataset's rows. */
  async prepare(columnIndexes: readonly number[]): Promise<void> {
    const { datasets, dataset, ownFromRow, replace } = this;
    for (const i of columnIndexes) {
      if (datasets.hasIndex(dataset.id, i)) {
        this.lookups.set(i, datasets.uniqueLookup(dataset, i, ownFromRow, replace));
        continue;
      }
      const values = datasets.uniqueValues(dataset, i, ownFromRow, replace);
      await values.fill();
      this.valueSets.set(i, values);
      this.lookups.set(i, (value) => values.has(value));
    }
  }

  isTaken(columnIndex: number, value: CellValue): boolean {
    return this.batch.get(columnIndex)?.has(value) === true || this.lookups.get(columnIndex)!(value);
  }

  claim(columnIndex: number, value: CellValue): void {
    let values = this.batch.get(columnIndex);
    if (!values) this.batch.set(columnIndex, (values = new Set()));
    values.add(value);
  }

  /** The batch is in the table now, where index lookups find it; value sets take its values. */
  committed(): void {
    for (const [columnIndex, values] of this.batch) this.valueSets.get(columnIndex)?.addAll(values);
    this.batch.clear();
  }
}
