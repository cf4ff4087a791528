import type { CellValue } from '../datasets/column-types';
import { type ColumnSpec, datasetShape, shapeMismatch, specsOf } from '../datasets/columns';
import { SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { FileFormat, Issue, JobError, JobOptions } from '../jobs/model';
import { SqliteJobStore } from '../jobs/sqlite-job-store';
import type { Db } from '../storage/sqlite';
import { Batch, type BatchResume, fenced } from './batch';
import { headerNames, inferColumns } from './infer';
import { layoutFor } from './layout';
import { openSource, type SourceSpec } from './open-source';
import { type FileLimits, type RowSource, type SourceBurst, type SourceItem, type SourcePosition, START } from './source';
import { IngestError } from './ingest-error';
import { DatasetUniqueness } from './uniqueness';
import { threadedSource } from './threaded-source';
import { RowValidator } from './validate';
import { approxBytes, isBlank, type RawCell } from './values';
import { RowWriter } from './writer';
import { isIntact } from '../uploads/spool';

export interface IngestTask {
  jobNum: number;
  datasetId: number;
  spoolPath: string;
  /** The upload as accepted, to check the spooled file against before reading it. */
  file: { size: number; sha256: string };
  format: FileFormat;
  options: JobOptions;
  batchRows: number;
  progressIntervalMs: number;
  inferSampleRows: number;
  limits: FileLimits;
  /** The attempt's lease: every commit is fenced by it and extends it by `leaseMs`. */
  leaseToken: string;
  leaseMs: number;
  /** Where an earlier attempt of the job left off, with its counters; null for a fresh start. */
  resume: BatchResume | null;
}

export type IngestOutcome = 'finished' | 'cancelled' | 'paused';

/** How the pipeline talks to whoever runs it: a report after every commit, and whether to stop early. */
export interface IngestControl {
  committed(): void;
  /** `cancel`: stop at the next batch boundary; `pause`: commit a checkpoint at the next burst and stop. */
  stopRequested(): 'cancel' | 'pause' | null;
}

/** From this size on, a file is parsed in a thread of its own (starting one costs about 0.3 s of a core); XLSX packs more rows per byte. */
const READER_THREAD_MIN_BYTES = { CSV: 8 * 1024 ** 2, XLSX: 1024 ** 2 };

/** Opens the file's parser, in a thread of its own when the file is large enough for two cores to pay off. */
async function open(task: IngestTask): Promise<RowSource> {
  const spec: SourceSpec = { path: task.spoolPath, format: task.format, csv: task.options.csv, sheet: task.options.sheet, limits: task.limits };
  return task.file.size >= READER_THREAD_MIN_BYTES[task.format] ? threadedSource(spec) : openSource(spec);
}

/** The sample kept for inference stops at this much text, however many rows it holds: records may be up to maxRecordBytes each. */
const SAMPLE_MAX_BYTES = 16 * 1024 ** 2;

/** What was read before the columns were settled: the header, rows kept for inference, and the position after them. */
interface Prelude {
  header: RawCell[] | null;
  buffered: SourceItem[];
  after: SourcePosition | null;
}

/** Reads the header (when the file has one) and, when columns must be inferred, a sample of rows. */
async function readPrelude(iterator: AsyncIterator<SourceBurst>, hasHeader: boolean, sampleRows: number): Promise<Prelude> {
  const buffered: SourceItem[] = [];
  let after: SourcePosition | null = null;
  let rows = 0;
  let bytes = 0;
  const readBurst = async (): Promise<boolean> => {
    const result = await iterator.next();
    if (result.done) return false;
    for (const item of result.value.items) {
      buffered.push(item);
      if (item.kind === 'row') {
        rows++;
        bytes += approxBytes(item.cells);
      }
    }
    after = result.value.after;
    return true;
  };
  while (buffered.length === 0 && (await readBurst()));
  const first = buffered[0];
  const header = hasHeader && first?.kind === 'row' && first.row === 0 ? (buffered.shift() as { cells: RawCell[] }).cells : null;
  while (rows < sampleRows && bytes < SAMPLE_MAX_BYTES && (await readBurst()));
  return { header, buffered, after };
}

function describeColumns(columns: readonly ColumnSpec[]): string {
  return columns.map((c) => `${c.name}: ${c.type}${c.required ? ' (required)' : ''}`).join(', ');
}

/**
 * Streams one job's file into its dataset: parse, validate, write in batches. Each batch's rows,
 * issues, progress counters and checkpoint are committed in one transaction; the rows stay hidden
 * until the registry commits the job as COMPLETED. A resumed attempt reads on from its checkpoint,
 * so every row is written once whatever the crash point.
 */
export async function runIngest(db: Db, task: IngestTask, control: IngestControl): Promise<IngestOutcome> {
  const resumed = task.resume?.checkpoint ?? null;
  // A verdict already committed needs no file: the attempt that reached it was only cut off before recording the end.
  if (resumed?.failure) throw new IngestError(resumed.failure.code, resumed.failure.message);
  if (!(await isIntact(task.spoolPath, task.file.size, task.file.sha256))) {
    throw new IngestError('STORAGE_ERROR', 'the spooled upload is corrupt or truncated (it no longer matches the sha256 of the upload); the dataset is unchanged');
  }
  const jobs = new SqliteJobStore(db);
  const datasets = new SqliteDatasetStore(db);
  const source = await open(task);
  const owner = { jobNum: task.jobNum, leaseToken: task.leaseToken, leaseMs: task.leaseMs };
  const batch = new Batch(db, jobs, owner, task.batchRows, task.progressIntervalMs, task.limits.issues, task.resume);
  // Where the rows handled so far end; advances only after a whole burst is handled, and never goes back.
  let position: SourcePosition = resumed ?? START;
  const advance = (after: SourcePosition | null) => {
    if (after && after.nextRow >= position.nextRow) position = after;
  };
  let extraCellsNoted = resumed?.extraCellsNoted ?? false;
  let failure: JobError | undefined;
  let settled = false; // whether the columns are settled, so that a checkpoint means something
  // A resumed attempt shows `resuming` until it handles its first record past the checkpoint.
  let resuming = resumed !== null;
  const resumedAtRows = task.resume?.counters.processedRows ?? 0;
  const commit = (stage?: string, messages?: Record<string, string>) => {
    if (resuming && batch.counters.processedRows > resumedAtRows) {
      resuming = false;
      stage ??= 'parsing';
    }
    batch.commit(source.bytesRead(), settled ? { ...position, extraCellsNoted, failure } : undefined, stage, messages);
    uniqueness?.committed();
    control.committed();
  };
  let uniqueness: DatasetUniqueness | null = null;
  commit(resumed ? 'resuming' : 'parsing', source.messages);

  // Columns: the caller's, else the dataset's, else inferred from the header and a sample.
  const iterator = source.items(position)[Symbol.asyncIterator]();
  try {
    const dataset = datasets.getById(task.datasetId)!;
    const given = task.options.columns ?? (dataset.columns ? specsOf(dataset.columns) : null);
    const hasHeader = task.format === 'XLSX' || task.options.csv.header;
    const { header, buffered, after: preludeEnd } = await readPrelude(iterator, hasHeader, given ? 0 : task.inferSampleRows);
    let columns = given;
    let inferredMessages: Record<string, string> | null = null;
    if (!columns) {
      const sample = buffered.flatMap((item) => (item.kind === 'row' ? [item.cells] : [])).slice(0, task.inferSampleRows);
      // The header says how many columns there are; without one, the widest sampled row does (the source bounds both).
      const width = header ? header.length : sample.reduce((widest, cells) => Math.max(widest, cells.length), 0);
      columns = inferColumns(headerNames(header, width), sample, task.format);
      inferredMessages = { columns: describeColumns(columns) };
    }
    const layout = layoutFor(columns, header, task.format);

    // The dataset's shape is fixed by its first job; every later one must match it. Settling the
    // columns and opening the job's row range are writes of this attempt: fenced by its lease.
    const shape = datasetShape(columns);
    const fromRow = fenced(db, jobs, owner, () => {
      if (!datasets.getById(task.datasetId)!.columns) datasets.setColumns(task.datasetId, shape, task.jobNum, Date.now());
      const mismatch = shapeMismatch(datasets.getById(task.datasetId)!.columns!, shape);
      if (mismatch) throw new IngestError('SCHEMA_MISMATCH', mismatch); // rolls back nothing: the columns were there already
      return datasets.beginJobRows(task.datasetId, task.jobNum);
    });
    batch.writer = new RowWriter(db, task.datasetId, columns.length);
    uniqueness = new DatasetUniqueness(datasets, datasets.getById(task.datasetId)!, fromRow, task.options.mode === 'REPLACE');
    await uniqueness.prepare(columns.flatMap((column, i) => (column.unique ? [i] : [])));
    const validator = new RowValidator(columns, uniqueness, task.limits.issues.perRow);
    settled = true;
    // A resumed attempt's layout warnings were committed by the attempt that first settled the columns.
    if (!resumed) layout.warnings.forEach((issue) => batch.note(issue));

    // Inferred columns are reported at once, so that a job failing in its first batch still says what it inferred.
    if (inferredMessages) commit(undefined, inferredMessages);

    const { counters } = batch;
    const noteExtraCells = (item: { row: number; cells: RawCell[] }) => {
      if (extraCellsNoted || layout.headerWidth === null || !item.cells.slice(layout.headerWidth).some((cell) => !isBlank(cell))) return;
      extraCellsNoted = true;
      const message = `row ${item.row} has values beyond the header's ${layout.headerWidth} column(s); they are ignored (noted for the first such row only)`;
      batch.note({ severity: 'WARNING', code: 'EXTRA_CELLS', message, row: item.row, column: null, value: null });
    };
    const cells: RawCell[] = new Array(columns.length);
    const malformed = (row: number, message: string) => batch.reject([{ severity: 'ERROR', code: 'MALFORMED_ROW', message, row, column: null, value: null }]);
    const handle = (item: SourceItem) => {
      counters.processedRows++;
      if (item.kind === 'malformed') {
        malformed(item.row, item.message);
      } else if (layout.width !== null && item.cells.length !== layout.width) {
        malformed(item.row, `the row has ${item.cells.length} field(s) where ${layout.width} are expected`);
      } else {
        if (item.cells.length > cells.length) noteExtraCells(item);
        for (let i = 0; i < layout.fileIndex.length; i++) cells[i] = layout.fileIndex[i] === -1 ? null : item.cells[layout.fileIndex[i]];
        const out: CellValue[] = new Array(cells.length);
        const rowIssues: Issue[] = [];
        const problems = validator.validate(cells, item.row, out, rowIssues);
        if (problems === 0) batch.accept(out);
        else batch.reject(rowIssues, problems);
      }
      if (task.options.maxErrors !== null && counters.rowsRejected > task.options.maxErrors) {
        const error = new IngestError('TOO_MANY_ERRORS', `more than ${task.options.maxErrors} row(s) were rejected`);
        // The issues that explain the failure are kept, with the verdict, so that an attempt resumed
        // before the failure is recorded fails the same way instead of noting them again.
        failure = { code: error.code, message: error.message };
        commit();
        throw error;
      }
    };

    for (const item of buffered) handle(item);
    advance(preludeEnd);
    for (let burst = await iterator.next(); !burst.done; burst = await iterator.next()) {
      for (const item of burst.value.items) handle(item);
      advance(burst.value.after);
      const stop = control.stopRequested();
      if (stop === 'pause' || batch.due) commit();
      if (stop) return stop === 'pause' ? 'paused' : 'cancelled';
    }
    commit('finalizing');
    return 'finished';
  } finally {
    // Stops the parser (and its thread, if it has one) however the ingest ends.
    await iterator.return?.(undefined);
  }
}
