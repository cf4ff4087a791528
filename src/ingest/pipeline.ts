import { type ColumnSpec, datasetShape, MAX_COLUMNS, shapeMismatch, specsOf } from '../datasets/columns';
import { type CellValue, SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { FileFormat, Issue, JobOptions } from '../jobs/model';
import { SqliteJobStore } from '../jobs/sqlite-job-store';
import { type Db, writeTransaction } from '../storage/sqlite';
import { Batch } from './batch';
import { headerNames, inferColumns } from './infer';
import { layoutFor } from './layout';
import { IngestError, type RowSource, type SourceItem } from './source';
import { DatasetUniqueness } from './uniqueness';
import { RowValidator } from './validate';
import { isBlank, type RawCell } from './values';
import { RowWriter } from './writer';

export interface IngestTask {
  jobNum: number;
  datasetId: number;
  spoolPath: string;
  format: FileFormat;
  options: JobOptions;
  batchRows: number;
  progressIntervalMs: number;
  inferSampleRows: number;
  maxRecordBytes: number;
}

export type IngestOutcome = 'finished' | 'cancelled';

/** How the pipeline talks to whoever runs it: a report after every commit, and a cancel flag. */
export interface IngestControl {
  committed(): void;
  isCancelled(): boolean;
}

/** Loads only the parser the file needs: exceljs alone takes longer to load than a small CSV takes to ingest. */
async function openSource(task: IngestTask): Promise<RowSource> {
  if (task.format === 'CSV') return (await import('./csv-source')).csvSource(task.spoolPath, task.options.csv, task.maxRecordBytes);
  return (await import('./xlsx-source')).xlsxSource(task.spoolPath, task.options.sheet!);
}

/** What was read before the columns were settled: the header, and rows kept for inference. */
interface Prelude {
  header: RawCell[] | null;
  buffered: SourceItem[];
}

/** Reads the header (when the file has one) and, when columns must be inferred, a sample of rows. */
async function readPrelude(iterator: AsyncIterator<SourceItem[]>, hasHeader: boolean, sampleRows: number): Promise<Prelude> {
  const buffered: SourceItem[] = [];
  let rows = 0;
  const readBurst = async (): Promise<boolean> => {
    const result = await iterator.next();
    if (result.done) return false;
    for (const item of result.value) {
      buffered.push(item);
      if (item.kind === 'row') rows++;
    }
    return true;
  };
  while (buffered.length === 0 && (await readBurst()));
  const first = buffered[0];
  const header = hasHeader && first?.kind === 'row' && first.row === 0 ? (buffered.shift() as { cells: RawCell[] }).cells : null;
  while (rows < sampleRows && (await readBurst()));
  return { header, buffered };
}

function describeColumns(columns: readonly ColumnSpec[]): string {
  return columns.map((c) => `${c.name}: ${c.type}${c.required ? ' (required)' : ''}`).join(', ');
}

/**
 * Streams one job's file into its dataset: parse, validate, write in batches. Each batch's rows,
 * issues and progress counters are committed in one transaction; the rows stay hidden until the
 * registry commits the job as COMPLETED.
 */
export async function runIngest(db: Db, task: IngestTask, control: IngestControl): Promise<IngestOutcome> {
  const jobs = new SqliteJobStore(db);
  const datasets = new SqliteDatasetStore(db);
  const source = await openSource(task);
  const batch = new Batch(db, jobs, task.jobNum, task.batchRows, task.progressIntervalMs);
  const commit = (stage?: string, messages?: Record<string, string>) => {
    batch.commit(source.bytesRead(), stage, messages);
    uniqueness?.committed();
    control.committed();
  };
  let uniqueness: DatasetUniqueness | null = null;
  commit('parsing', source.messages);

  // Columns: the caller's, else the dataset's, else inferred from the header and a sample.
  const iterator = source.items()[Symbol.asyncIterator]();
  const dataset = datasets.getById(task.datasetId)!;
  const given = task.options.columns ?? (dataset.columns ? specsOf(dataset.columns) : null);
  const hasHeader = task.format === 'XLSX' || task.options.csv.header;
  const { header, buffered } = await readPrelude(iterator, hasHeader, given ? 0 : task.inferSampleRows);
  let columns = given;
  let inferredMessages: Record<string, string> | null = null;
  if (!columns) {
    const sample = buffered.flatMap((item) => (item.kind === 'row' ? [item.cells] : [])).slice(0, task.inferSampleRows);
    // The header says how many columns there are; without one, the widest sampled row does.
    const width = header ? header.length : sample.reduce((widest, cells) => Math.max(widest, cells.length), 0);
    if (width > MAX_COLUMNS) throw new IngestError('TOO_MANY_COLUMNS', `the file has ${width} columns; at most ${MAX_COLUMNS} are supported`);
    columns = inferColumns(headerNames(header, width), sample);
    inferredMessages = { columns: describeColumns(columns) };
  }
  const layout = layoutFor(columns, header, task.format);

  // The dataset's shape is fixed by its first job; every later one must match it.
  const shape = datasetShape(columns);
  const mismatch = writeTransaction(db, () => {
    if (!datasets.getById(task.datasetId)!.columns && datasets.setColumns(task.datasetId, shape, task.jobNum, Date.now())) return null;
    return shapeMismatch(datasets.getById(task.datasetId)!.columns!, shape);
  });
  if (mismatch) throw new IngestError('SCHEMA_MISMATCH', mismatch);

  const fromRow = writeTransaction(db, () => datasets.beginJobRows(task.datasetId, task.jobNum));
  columns.forEach((column, i) => {
    if (column.unique) datasets.ensureIndex(task.datasetId, i);
  });
  batch.writer = new RowWriter(db, task.datasetId, columns.length);
  uniqueness = new DatasetUniqueness(datasets, datasets.getById(task.datasetId)!, fromRow, task.options.mode === 'REPLACE');
  const validator = new RowValidator(columns, uniqueness);
  layout.warnings.forEach((issue) => batch.note(issue));

  // Inferred columns are reported at once, so that a job failing in its first batch still says what it inferred.
  if (inferredMessages) commit(undefined, inferredMessages);

  const { counters } = batch;
  let extraCellsNoted = false;
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
      if (validator.validate(cells, item.row, out, rowIssues)) batch.accept(out);
      else batch.reject(rowIssues);
    }
    if (task.options.maxErrors !== null && counters.rowsRejected > task.options.maxErrors) {
      commit(); // the issues that explain the failure are kept
      throw new IngestError('TOO_MANY_ERRORS', `more than ${task.options.maxErrors} row(s) were rejected`);
    }
  };

  for (const item of buffered) handle(item);
  for (let burst = await iterator.next(); !burst.done; burst = await iterator.next()) {
    for (const item of burst.value) handle(item);
    if (batch.due) {
      commit();
      if (control.isCancelled()) {
        await iterator.return?.();
        return 'cancelled';
      }
    }
  }
  commit('finalizing');
  return 'finished';
}
