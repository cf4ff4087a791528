import type { CellValue } from '../datasets/column-types';
import type { RowSink } from '../ports/row-sink';
import type { UniquenessCheck } from './validate';

/**
 * UNIQUE values a job must not repeat: those the sink already holds in scope (the dataset's visible
 * rows, unless the job replaces them, and the job's committed rows), fetched once per burst of rows,
 * and those of the job's batch not yet committed, kept here. Memory holds one burst's values and one
 * batch's.
 */
export class BurstUniqueness implements UniquenessCheck {
  /** Values claimed by rows of the batch not yet committed. */
  private readonly pending = new Map<number, Set<CellValue>>();
  /** Values of the current burst that the sink already holds. */
  private readonly taken = new Map<number, Set<CellValue>>();

  constructor(
    private readonly sink: RowSink,
    private readonly columnIndexes: readonly number[],
  ) {}

  /** Fetches which of the values these rows hold in UNIQUE columns are taken already, before their checks. */
  async prefetch(rows: ReadonlyArray<readonly CellValue[]>): Promise<void> {
    for (const i of this.columnIndexes) {
      const pending = this.pending.get(i);
      const values = new Set<CellValue>();
      for (const row of rows) if (row[i] !== null && !pending?.has(row[i])) values.add(row[i]);
      this.taken.set(i, values.size === 0 ? new Set() : await this.sink.taken(i, [...values]));
    }
  }

  isTaken(columnIndex: number, value: CellValue): boolean {
    return this.pending.get(columnIndex)?.has(value) === true || this.taken.get(columnIndex)?.has(value) === true;
  }

  claim(columnIndex: number, value: CellValue): void {
    let values = this.pending.get(columnIndex);
    if (!values) this.pending.set(columnIndex, (values = new Set()));
    values.add(value);
  }

  /** The batch is in the sink now, where the next prefetch finds its values. */
  committed(): void {
    this.pending.clear();
  }
}
