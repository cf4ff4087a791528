import type { CellValue } from '../datasets/column-types';
import type { DatasetColumn } from '../datasets/columns';
import { keyText } from '../datasets/key';
import type { IngestMode, Issue } from '../jobs/model';
import type { KeyedRows, RowSink } from '../ports/row-sink';

/** What a valid row's key makes of it: a new row, one replacing a row of the dataset (`updated` or `unchanged`), or an issue. */
export type KeyVerdict = { kind: 'inserted' | 'updated' | 'unchanged'; key: string } | { kind: 'rejected'; issue: Issue };

const NOTHING_FOUND: KeyedRows = { own: new Set(), visible: new Map() };

/**
 * The dataset's key, checked row by row. A key is the job's once a row with it is accepted: a later
 * row of the file with the same key is rejected (UNIQUE), whatever the mode, so the first one wins.
 * A key the dataset's visible rows hold is UNIQUE in APPEND, the row it replaces in UPSERT, and
 * nothing in REPLACE. Lookups go to the sink once per burst; the keys of the batch not yet
 * committed are kept here. Memory holds one burst's lookups and one batch's keys.
 */
export class BurstKeys {
  private readonly pending = new Set<string>();
  private found = NOTHING_FOUND;
  private readonly names: string;

  constructor(
    private readonly sink: RowSink,
    private readonly columns: readonly DatasetColumn[],
    readonly indexes: readonly number[],
    private readonly mode: IngestMode,
  ) {
    this.names = indexes.map((i) => columns[i].name).join(', ');
  }

  /** Readies the sink's lookups: the dataset's visible rows matter unless the job replaces them. */
  prepare(): Promise<void> {
    return this.sink.prepareKey(this.indexes, this.mode !== 'REPLACE');
  }

  async prefetch(rows: ReadonlyArray<readonly CellValue[]>): Promise<void> {
    const keys = new Map<string, CellValue[]>();
    for (const row of rows) {
      const text = keyText(row, this.indexes);
      if (!this.pending.has(text)) keys.set(text, this.indexes.map((i) => row[i]));
    }
    this.found = keys.size === 0 ? NOTHING_FOUND : await this.sink.keyed([...keys.values()]);
  }

  /** The verdict on valid row `row` with `values`. */
  check(row: number, values: readonly CellValue[]): KeyVerdict {
    const text = keyText(values, this.indexes);
    if (this.pending.has(text) || this.found.own.has(text)) return this.rejected(row, values, 'appears on an earlier row of the file, which is the one kept');
    const held = this.found.visible.get(text);
    if (held && this.mode === 'APPEND') return this.rejected(row, values, 'is already in the dataset (mode UPSERT replaces rows by key)');
    if (!held) return { kind: 'inserted', key: text };
    return { kind: held.every((value, i) => value === values[i]) ? 'unchanged' : 'updated', key: text };
  }

  /** The row whose verdict gave `key` is accepted: the key is the job's from now on. */
  claim(key: string): void {
    this.pending.add(key);
  }

  /** The batch is in the sink now, where the next prefetch finds its keys. */
  committed(): void {
    this.pending.clear();
  }

  private rejected(row: number, values: readonly CellValue[], why: string): KeyVerdict {
    const value = this.indexes.map((i) => String(values[i])).join(', ');
    const message = `the key (${this.names}) = (${value}) ${why}`;
    return { kind: 'rejected', issue: { severity: 'ERROR', code: 'UNIQUE', message, row, column: this.columns[this.indexes[0]].name, value } };
  }
}
