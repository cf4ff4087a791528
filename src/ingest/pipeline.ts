import { type ColumnSpec, datasetShape, shapeMismatch, specsOf } from '../datasets/columns';
import { type CellValue, SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { FileFormat, Issue, JobOptions, ProgressCounters } from '../jobs/model';
import { SqliteJobStore } from '../jobs/sqlite-job-store';
import { type Db, writeTransaction } from '../storage/sqlite';
import { headerNames, inferColumns } from './infer';
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
  fileSize: number;
  options: JobOptions;
  batchRows: number;
  progressIntervalMs: number;
  inferSampleRows: number;
}

export type IngestOutcome = 'finished' | 'cancelled';

/** How the pipeline talks to whoever runs it: a report after every commit, and a cancel flag. */
export interface IngestControl {
  committed(): void;
  isCancelled(): boolean;
}

/** Loads only the parser the file needs: exceljs alone takes longer to load than a small CSV takes to ingest. */
async function openSource(task: IngestTask): Promise<RowSource> {
  if (task.format === 'CSV') return (await import('./csv-source')).csvSource(task.spoolPath, task.options.csv);
  return (await import('./xlsx-source')).xlsxSource(task.spoolPath, task.options.sheet!);
}

/** Where each column's cell sits in a file row (-1: the file has no such column). */
interface Layout {
  columns: ColumnSpec[];
  fileIndex: number[];
  /** CSV rows must have exactly this many fields; null where short rows are normal (XLSX drops empty trailing cells). */
  width: number | null;
  warnings: Issue[];
}

function warning(code: string, message: string, column: string): Issue {
  return { severity: 'WARNING', code, message, row: null, column, value: null };
}

/** Matches the job's columns to the file's header by name, or by position when the file has none. */
function layoutFor(columns: ColumnSpec[], header: RawCell[] | null, format: FileFormat): Layout {
  const strictWidth = format === 'CSV';
  if (!header) {
    return { columns, fileIndex: columns.map((_, i) => i), width: strictWidth ? columns.length : null, warnings: [] };
  }
  const names = headerNames(header, header.length);
  const position = new Map(names.map((name, i) => [name.trim().toLowerCase(), i]));
  const fileIndex = columns.map((column) => position.get(column.name.toLowerCase()) ?? -1);
  const missing = columns.filter((_, i) => fileIndex[i] === -1);
  const missingRequired = missing.filter((column) => column.required);
  if (missingRequired.length > 0) {
    throw new IngestError('MISSING_COLUMNS', `the header lacks required column(s): ${missingRequired.map((c) => c.name).join(', ')}`);
  }
  const used = new Set(fileIndex);
  const warnings = [
    ...missing.map((column) => warning('MISSING_COLUMN', `the header has no column "${column.name}"; its values are left empty`, column.name)),
    ...names
      .filter((_, i) => !used.has(i) && !isBlank(header[i]))
      .map((name) => warning('EXTRA_COLUMN', `column "${name}" is not in the schema and is ignored`, name)),
  ];
  return { columns, fileIndex, width: strictWidth ? header.length : null, warnings };
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
  const counters: ProgressCounters = {
    processedRows: 0,
    totalRows: null,
    rowsWritten: 0,
    rowsRejected: 0,
    bytesRead: 0,
    issueErrors: 0,
    issueWarnings: 0,
  };
  let issueIndex = 0;
  let rows: CellValue[][] = [];
  let issues: Issue[] = [];
  let lastCommit = Date.now();
  let writer: RowWriter | null = null;
  let uniqueness: DatasetUniqueness | null = null;

  const commit = (stage?: string, messages?: Record<string, string>) => {
    counters.bytesRead = source.bytesRead();
    writeTransaction(db, () => {
      if (rows.length > 0) writer!.write(rows);
      jobs.appendIssues(task.jobNum, issueIndex, issues);
      jobs.recordProgress(task.jobNum, { counters, stage, messages }, Date.now());
    });
    issueIndex += issues.length;
    rows = [];
    issues = [];
    uniqueness?.committed();
    lastCommit = Date.now();
    control.committed();
  };

  const addIssue = (issue: Issue) => {
    issues.push(issue);
    if (issue.severity === 'ERROR') counters.issueErrors++;
    else counters.issueWarnings++;
  };

  commit('parsing', source.messages);

  // Items arrive a burst at a time; `buffered` holds what was read before the columns were settled.
  const iterator = source.items()[Symbol.asyncIterator]();
  const buffered: SourceItem[] = [];
  let bufferedRows = 0;
  const readBurst = async (): Promise<boolean> => {
    const result = await iterator.next();
    if (result.done) return false;
    for (const item of result.value) {
      buffered.push(item);
      if (item.kind === 'row') bufferedRows++;
    }
    return true;
  };

  // The header, then a sample of rows when the columns have to be inferred.
  const hasHeader = task.format === 'XLSX' || task.options.csv.header;
  let header: RawCell[] | null = null;
  if (hasHeader) {
    while (buffered.length === 0 && (await readBurst()));
    const first = buffered[0];
    if (first?.kind === 'row' && first.row === 0) {
      header = first.cells;
      buffered.shift();
      bufferedRows--;
    }
  }
  const dataset = datasets.getById(task.datasetId)!;
  let columns = task.options.columns ?? (dataset.columns ? specsOf(dataset.columns) : null);
  const messages: Record<string, string> = {};
  if (!columns) {
    while (bufferedRows < task.inferSampleRows && (await readBurst()));
    const sample = buffered.flatMap((item) => (item.kind === 'row' ? [item.cells] : [])).slice(0, task.inferSampleRows);
    const width = Math.max(header?.length ?? 0, ...sample.map((cells) => cells.length));
    columns = inferColumns(headerNames(header, width), sample);
    messages.columns = columns.map((c) => `${c.name}: ${c.type}${c.required ? ' (required)' : ''}`).join(', ');
  }
  const layout = layoutFor(columns, header, task.format);

  // The dataset's shape is fixed by its first job; every later one must match it.
  const shape = datasetShape(columns);
  const settled = writeTransaction(db, () => {
    const current = datasets.getById(task.datasetId)!;
    if (!current.columns && datasets.setColumns(task.datasetId, shape, Date.now())) return null;
    return shapeMismatch(datasets.getById(task.datasetId)!.columns!, shape);
  });
  if (settled) throw new IngestError('SCHEMA_MISMATCH', settled);

  const fromRow = writeTransaction(db, () => datasets.beginJobRows(task.datasetId, task.jobNum));
  columns.forEach((column, i) => {
    if (column.unique) datasets.ensureIndex(task.datasetId, i);
  });
  writer = new RowWriter(db, task.datasetId, columns.length);
  uniqueness = new DatasetUniqueness(datasets, datasets.getById(task.datasetId)!, fromRow, task.options.mode === 'REPLACE');
  const validator = new RowValidator(columns, uniqueness);
  layout.warnings.forEach(addIssue);

  const cells: RawCell[] = new Array(columns.length);
  const handle = (item: SourceItem) => {
    counters.processedRows++;
    if (item.kind === 'malformed') {
      counters.rowsRejected++;
      addIssue({ severity: 'ERROR', code: 'MALFORMED_ROW', message: item.message, row: item.row, column: null, value: null });
    } else if (layout.width !== null && item.cells.length !== layout.width) {
      counters.rowsRejected++;
      addIssue({
        severity: 'ERROR',
        code: 'MALFORMED_ROW',
        message: `the row has ${item.cells.length} field(s) where ${layout.width} are expected`,
        row: item.row,
        column: null,
        value: null,
      });
    } else {
      for (let i = 0; i < layout.fileIndex.length; i++) cells[i] = layout.fileIndex[i] === -1 ? null : item.cells[layout.fileIndex[i]];
      const out: CellValue[] = new Array(columns!.length);
      const rowIssues: Issue[] = [];
      if (validator.validate(cells, item.row, out, rowIssues)) {
        rows.push(out);
        counters.rowsWritten++;
      } else {
        counters.rowsRejected++;
        rowIssues.forEach(addIssue);
      }
    }
    if (task.options.maxErrors !== null && counters.rowsRejected > task.options.maxErrors) {
      commit();
      throw new IngestError('TOO_MANY_ERRORS', `more than ${task.options.maxErrors} row(s) were rejected`);
    }
  };

  const due = () => rows.length >= task.batchRows || issues.length >= task.batchRows || Date.now() - lastCommit >= task.progressIntervalMs;
  let stageMessages: Record<string, string> | undefined = Object.keys(messages).length > 0 ? messages : undefined;
  for (const item of buffered) handle(item);
  for (let burst = await iterator.next(); !burst.done; burst = await iterator.next()) {
    for (const item of burst.value) handle(item);
    if (due()) {
      commit(undefined, stageMessages);
      stageMessages = undefined;
      if (control.isCancelled()) {
        await iterator.return?.();
        return 'cancelled';
      }
    }
  }
  commit('finalizing', stageMessages);
  return 'finished';
}
