import type { CellValue } from '../datasets/column-types';
import { type ColumnSpec, datasetShape } from '../datasets/columns';
import { keyIndexes, keyNames, keyProblem, withKey } from '../datasets/key';
import type { Issue, JobError } from '../jobs/model';
import type { RowSink } from '../ports/row-sink';
import type { Batch } from './batch';
import { IngestError } from './ingest-error';
import { type Layout, layoutFor } from './layout';
import type { IngestControl, IngestOutcome, IngestTask } from './task';
import { givenColumns, inferFromPrelude, type Prelude, readPrelude } from './prelude';
import type { RowSource, SourceBurst, SourceItem, SourcePosition } from './source';
import { START } from './source';
import { BurstUniqueness } from './uniqueness';
import { BurstKeys } from './keys';
import { RowValidator } from './validate';
import { isBlank, nullValueSet, type RawCell } from './values';

/** What the first pass over a record found: its stored values (null: malformed), issues and problems (UNIQUE not yet checked). */
interface Verdict {
  row: number;
  /** The record's cells as read, for the rejected-rows file. */
  record: readonly RawCell[];
  cells: readonly RawCell[];
  values: CellValue[] | null;
  issues: Issue[];
  problems: number;
  /** Whether the record has values past the header's width. */
  extraCells: boolean;
}

/** How records become rows once the columns are settled. */
interface RowRules {
  layout: Layout;
  validator: RowValidator;
  uniqueness: BurstUniqueness | null;
  keys: BurstKeys | null;
  /** The cells of a record in column order, reused from row to row when no UNIQUE check needs them later. */
  cells: RawCell[];
}

/** The columns with the job's key marked; a key naming no column (inferred columns, or the dataset's changed since the submission) fails the job. */
function keyed(columns: ColumnSpec[], key: readonly string[]): ColumnSpec[] {
  if (key.length === 0) return columns;
  const problem = keyProblem(columns, key, false);
  if (problem) throw new IngestError(problem.code, problem.message);
  return withKey(columns, key);
}

function malformed(row: number, message: string, record: readonly RawCell[] = []): Verdict {
  return { row, record, cells: [], values: null, issues: [{ severity: 'ERROR', code: 'MALFORMED_ROW', message, row, column: null, value: null }], problems: 1, extraCells: false };
}

/**
 * One attempt at a job's file: settles the columns, then streams bursts of records through
 * validation into batches, committing each with its checkpoint. The row path is synchronous; only
 * a burst's UNIQUE lookups and each commit wait for the sink.
 */
export class IngestRun {
  /** Where the rows handled so far end; advances only after a whole burst is handled, and never goes back. */
  private position: SourcePosition;
  private extraCellsNoted: boolean;
  private failure: JobError | undefined;
  /** Set once the columns are settled, so that a checkpoint means something. */
  private rules: RowRules | null = null;
  /** A resumed attempt shows `resuming` until it handles its first record past the checkpoint. */
  private resuming: boolean;

  constructor(
    private readonly task: IngestTask,
    private readonly sink: RowSink,
    private readonly source: RowSource,
    private readonly batch: Batch,
    private readonly control: IngestControl,
  ) {
    const resumed = task.resume?.checkpoint ?? null;
    this.position = resumed ?? START;
    this.extraCellsNoted = resumed?.extraCellsNoted ?? false;
    this.resuming = resumed !== null;
  }

  async run(): Promise<IngestOutcome> {
    await this.commit(this.resuming ? 'resuming' : 'parsing', this.source.messages);
    const iterator = this.source.items(this.position)[Symbol.asyncIterator]();
    try {
      const prelude = await this.settleColumns(iterator);
      await this.handleBurst(prelude.buffered);
      this.advance(prelude.after);
      for (let burst = await iterator.next(); !burst.done; burst = await iterator.next()) {
        await this.handleBurst(burst.value.items);
        this.advance(burst.value.after);
        const stop = this.control.stopRequested();
        if (stop === 'pause' || this.batch.due) await this.commit();
        if (stop) return stop === 'pause' ? 'paused' : 'cancelled';
      }
      await this.commit('finalizing');
      return 'finished';
    } finally {
      // Stops the parser (and its thread, if it has one) however the ingest ends.
      await iterator.return?.(undefined);
    }
  }

  private async commit(stage?: string, messages?: Record<string, string>): Promise<void> {
    if (this.resuming && this.batch.counters.processedRows > (this.task.resume?.counters.processedRows ?? 0)) {
      this.resuming = false;
      stage ??= 'parsing';
    }
    const checkpoint = this.rules ? { ...this.position, extraCellsNoted: this.extraCellsNoted, failure: this.failure } : undefined;
    await this.batch.commit(this.source.bytesRead(), checkpoint, stage, messages);
    this.rules?.uniqueness?.committed();
    this.rules?.keys?.committed();
    this.control.committed();
  }

  private advance(after: SourcePosition | null): void {
    if (after && after.nextRow >= this.position.nextRow) this.position = after;
  }

  /**
   * Columns: the caller's, else the dataset's, else inferred from the header and a sample. The
   * dataset's shape is fixed by its first job; every later one must match it (the sink checks, fenced).
   */
  private async settleColumns(iterator: AsyncIterator<SourceBurst>): Promise<Prelude> {
    const { task, sink } = this;
    const dataset = await sink.dataset();
    const given = givenColumns(task.options.columns, dataset);
    const prelude = await readPrelude(iterator, task.format === 'XLSX' || task.options.csv.header, given ? 0 : task.inferSampleRows);
    const nullValues = nullValueSet(task.options.nullValues);
    const inferred = given ? null : inferFromPrelude(prelude, task.inferSampleRows, task.format, nullValues);
    const columns = keyed(given ?? inferred!.columns, task.options.key ?? keyNames(dataset.columns ?? []));
    const layout = layoutFor(columns, prelude.header, task.format);
    this.batch.rejects.setHeader(prelude.header ?? columns.map((column) => column.name));
    await sink.settle(datasetShape(columns));
    const validator = new RowValidator(columns, task.limits.issues.perRow, nullValues);
    this.rules = { layout, validator, uniqueness: await this.uniquenessOf(columns), keys: await this.keysOf(columns), cells: new Array(columns.length) };
    // A resumed attempt's layout warnings and messages were committed by the attempt that first settled the columns.
    if (task.resume) return prelude;
    layout.warnings.forEach((issue) => this.batch.note(issue));
    // Reported at once, so that a job failing in its first batch still says what it inferred and how it read the header.
    const messages = { ...inferred?.messages, ...(layout.mapping === null ? {} : { mapping: layout.mapping }) };
    if (Object.keys(messages).length > 0) await this.commit(undefined, messages);
    return prelude;
  }

  private async uniquenessOf(columns: readonly ColumnSpec[]): Promise<BurstUniqueness | null> {
    const unique = columns.flatMap((column, i) => (column.unique ? [i] : []));
    if (unique.length === 0) return null;
    await this.sink.prepareUnique(unique, this.task.options.mode === 'REPLACE');
    return new BurstUniqueness(this.sink, unique);
  }

  private async keysOf(columns: readonly ColumnSpec[]): Promise<BurstKeys | null> {
    const indexes = keyIndexes(columns);
    if (indexes.length === 0) return null;
    const keys = new BurstKeys(this.sink, columns, indexes, this.task.options.mode);
    await keys.prepare();
    return keys;
  }

  /** Validates a burst of records into the batch; with UNIQUE columns or a key in two passes, so that the burst's values are looked up at once. */
  private async handleBurst(items: readonly SourceItem[]): Promise<void> {
    const { uniqueness, keys } = this.rules!;
    if (!uniqueness && !keys) {
      for (const item of items) if (this.apply(this.check(item))) await this.tooManyErrors();
      return;
    }
    const verdicts = items.map((item) => this.check(item));
    const valid = verdicts.flatMap((verdict) => (verdict.values && verdict.problems === 0 ? [verdict.values] : []));
    await uniqueness?.prefetch(valid);
    await keys?.prefetch(valid);
    for (const verdict of verdicts) if (this.apply(verdict)) await this.tooManyErrors();
  }

  /** The first pass over a record: its shape and every rule but UNIQUE. */
  private check(item: SourceItem): Verdict {
    const { layout, validator, uniqueness } = this.rules!;
    if (item.kind === 'malformed') return malformed(item.row, item.message);
    if (layout.width !== null && item.cells.length !== layout.width) return malformed(item.row, `the row has ${item.cells.length} field(s) where ${layout.width} are expected`, item.cells);
    const cells = uniqueness ? new Array<RawCell>(layout.fileIndex.length) : this.rules!.cells;
    for (let i = 0; i < layout.fileIndex.length; i++) cells[i] = layout.fileIndex[i] === -1 ? null : item.cells[layout.fileIndex[i]];
    const values: CellValue[] = new Array(cells.length);
    const issues: Issue[] = [];
    const problems = validator.validate(cells, item.row, values, issues);
    const extraCells = item.cells.length > cells.length && layout.headerWidth !== null && item.cells.slice(layout.headerWidth).some((cell) => !isBlank(cell));
    return { row: item.row, record: item.cells, cells, values, issues, problems, extraCells };
  }

  /** The second pass, in file order: UNIQUE checks, then the row goes into the batch or is rejected. True when the job has now rejected too many rows. */
  private apply(verdict: Verdict): boolean {
    const { counters } = this.batch;
    counters.processedRows++;
    if (verdict.extraCells && !this.extraCellsNoted) this.noteExtraCells(verdict.row);
    const key = verdict.values && verdict.problems === 0 ? this.rules!.keys?.check(verdict.row, verdict.values) : undefined;
    if (key?.kind === 'rejected') verdict.issues.push(key.issue);
    const problems = key?.kind === 'rejected' ? 1 : this.checkUnique(verdict);
    if (verdict.values && problems === 0) {
      if (key && key.kind !== 'rejected') this.rules!.keys!.claim(key.key);
      this.batch.accept(verdict.values, key?.kind === 'updated' || key?.kind === 'unchanged' ? key.kind : undefined);
    } else {
      this.batch.reject(verdict.row, verdict.record, verdict.issues, problems);
    }
    return this.task.options.maxErrors !== null && counters.rowsRejected > this.task.options.maxErrors;
  }

  /** The verdict's problems once its UNIQUE columns are checked (a row with problems already is not). */
  private checkUnique(verdict: Verdict): number {
    const { uniqueness, validator } = this.rules!;
    if (!verdict.values || verdict.problems > 0 || !uniqueness) return verdict.problems;
    return validator.checkUnique(verdict.cells, verdict.row, verdict.values, verdict.issues, uniqueness);
  }

  private noteExtraCells(row: number): void {
    this.extraCellsNoted = true;
    const message = `row ${row} has values beyond the header's ${this.rules!.layout.headerWidth} column(s); they are ignored (noted for the first such row only)`;
    this.batch.note({ severity: 'WARNING', code: 'EXTRA_CELLS', message, row, column: null, value: null });
  }

  /**
   * Fails the job. The issues that explain the failure are kept, with the verdict, so that an attempt
   * resumed before the failure is recorded fails the same way instead of noting them again.
   */
  private async tooManyErrors(): Promise<never> {
    const error = new IngestError('TOO_MANY_ERRORS', `more than ${this.task.options.maxErrors} row(s) were rejected`);
    this.failure = { code: error.code, message: error.message };
    await this.commit();
    throw error;
  }
}
