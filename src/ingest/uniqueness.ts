import type { CellValue, Dataset, SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { UniquenessCheck } from './validate';

/**
 * UNIQUE values a job must not repeat: those of the rows that will be visible beside its own (none
 * for REPLACE), those it has written, and those of its batch not yet written. Memory holds only the
 * current batch; the rest is an indexed lookup in the dataset's table.
 */
export class DatasetUniqueness implements UniquenessCheck {
  private readonly batch = new Map<number, Set<CellValue>>();
  private readonly lookups = new Map<number, (value: CellValue) => boolean>();

  constructor(
    private readonly datasets: SqliteDatasetStore,
    private readonly dataset: Dataset,
    private readonly ownFromRow: number,
    private readonly replace: boolean,
  ) {}

  isTaken(columnIndex: number, value: CellValue): boolean {
    if (this.batch.get(columnIndex)?.has(value)) return true;
    let lookup = this.lookups.get(columnIndex);
    if (!lookup) this.lookups.set(columnIndex, (lookup = this.datasets.uniqueLookup(this.dataset, columnIndex, this.ownFromRow, this.replace)));
    return lookup(value);
  }

  claim(columnIndex: number, value: CellValue): void {
    let values = this.batch.get(columnIndex);
    if (!values) this.batch.set(columnIndex, (values = new Set()));
    values.add(value);
  }

  /** The batch is in the table now, where lookups find it. */
  committed(): void {
    this.batch.clear();
  }
}
