import type { CellValue, Dataset, SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { UniquenessCheck } from './validate';

const LOOKUP_LIMIT = 64;

/**
 * UNIQUE values a job must not repeat: those of the rows that will be visible beside its own (none
 * for REPLACE), those it has written, and those of its batch not yet written. Memory holds only the
 * current batch; the rest is an indexed lookup in the dataset's table.
 */
export class DatasetUniqueness implements UniquenessCheck {
  private readonly batch = new Map<number, Set<CellValue>>();
  private readonly otherHidden: Array<{ fromRow: number; toRow: number }>;

  constructor(
    private readonly datasets: SqliteDatasetStore,
    private readonly dataset: Dataset,
    private readonly ownFromRow: number,
    private readonly replace: boolean,
  ) {
    this.otherHidden = datasets
      .hiddenRanges(dataset.id)
      .filter((range) => range.fromRow !== ownFromRow)
      .map((range) => ({ fromRow: range.fromRow, toRow: range.toRow ?? Number.MAX_SAFE_INTEGER }));
  }

  private counts(row: number): boolean {
    if (row >= this.ownFromRow) return true; // only this job writes to the dataset while it runs
    if (this.replace || row < this.dataset.visibleFromRow) return false;
    return !this.otherHidden.some((range) => row >= range.fromRow && row <= range.toRow);
  }

  isTaken(columnIndex: number, value: CellValue): boolean {
    if (this.batch.get(columnIndex)?.has(value)) return true;
    return this.datasets.rowsWithValue(this.dataset.id, columnIndex, value, LOOKUP_LIMIT).some((row) => this.counts(row));
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
