import { randomUUID } from 'node:crypto';
import type { ColumnType } from '../datasets/column-types';
import { type ColumnSpec, checkColumns, checkName, datasetShape, type InputProblem, shapeMismatch } from '../datasets/columns';
import { type CsvOptions, type FileFormat, type IngestMode, type Job, JOB_ID_PREFIX } from '../jobs/model';
import type { JobRegistry } from '../jobs/registry';
import type { BlobStore, StagedUpload } from '../ports/blob-store';
import type { DatasetStore } from '../ports/dataset-store';
import type { JobStore } from '../ports/job-store';
import { sniffFormat } from './sniff';
import { checkWebhookUrl, type DestinationPolicy } from '../webhooks/destination';
import { listSheets } from './xlsx-sheets';
import { NotAWorkbookError } from './zip-directory';
import type { Config } from '../config';
import { IngestError } from './ingest-error';
import { admitJob, WorkspaceLimitError } from '../workspaces/limits';

export interface ColumnInput {
  name: string;
  type: ColumnType;
  required?: boolean | null;
  unique?: boolean | null;
  pattern?: string | null;
  min?: number | null;
  max?: number | null;
  values?: readonly string[] | null;
}

export interface IngestInput {
  file: StagedUpload;
  dataset: string;
  format?: FileFormat | null;
  columns?: readonly ColumnInput[] | null;
  csv?: { delimiter?: string | null; quote?: string | null; header?: boolean | null; encoding?: string | null } | null;
  sheet?: string | null;
  mode?: IngestMode | null;
  maxErrors?: number | null;
  idempotencyKey?: string | null;
  webhookUrl?: string | null;
}

export type Submission = { job: Job; userErrors: [] } | { job: null; userErrors: InputProblem[] };

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The answer to a request under a key used before: that job again for the same file, else IDEMPOTENCY_KEY_REUSED alone. */
function answerReusedKey(earlier: Job, file: StagedUpload): Submission {
  if (earlier.file.sha256 === file.sha256) return { job: earlier, userErrors: [] };
  return {
    job: null,
    userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message: 'this idempotencyKey was used for a different file' }],
  };
}

function columnSpecs(columns: readonly ColumnInput[]): ColumnSpec[] {
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    required: c.required ?? false,
    unique: c.unique ?? false,
    pattern: c.pattern ?? null,
    min: c.min ?? null,
    max: c.max ?? null,
    values: c.values ? [...c.values] : null,
  }));
}

function csvOptions(input: IngestInput['csv'], problems: InputProblem[]): CsvOptions {
  const options: CsvOptions = {
    delimiter: input?.delimiter ?? null,
    quote: input?.quote ?? '"',
    header: input?.header ?? true,
    encoding: input?.encoding ?? 'utf-8',
  };
  const single = (value: string | null, name: string) => {
    if (value !== null && ([...value].length !== 1 || value === '\n' || value === '\r')) {
      problems.push({ code: 'INVALID_CSV_OPTION', field: ['input', 'csv', name], message: `${name} must be a single character other than a line break` });
    }
  };
  single(options.delimiter, 'delimiter');
  single(options.quote, 'quote');
  if (options.delimiter !== null && options.delimiter === options.quote) {
    problems.push({ code: 'INVALID_CSV_OPTION', field: ['input', 'csv', 'quote'], message: 'quote and delimiter must differ' });
  }
  try {
    new TextDecoder(options.encoding);
  } catch {
    problems.push({ code: 'INVALID_ENCODING', field: ['input', 'csv', 'encoding'], message: `unknown encoding "${options.encoding}"` });
  }
  return options;
}

/** Turns an `ingest` request into a committed job, or into user errors with nothing left behind. */
export class IngestSubmission {
  constructor(
    private readonly registry: JobRegistry,
    private readonly jobs: Pick<JobStore, 'findByIdempotencyKey'>,
    private readonly datasets: Pick<DatasetStore, 'get'>,
    private readonly blobs: BlobStore,
    private readonly destinations: DestinationPolicy,
    private readonly limits: Pick<Config, 'maxColumns' | 'zipLimits' | 'workspaceLimits'>,
  ) {}

  async submit(workspace: string, input: IngestInput): Promise<Submission> {
    // A retry is answered as the first request was, before any check: the dataset or the rules may have changed since.
    const earlier = input.idempotencyKey ? await this.jobs.findByIdempotencyKey(workspace, input.idempotencyKey) : null;
    if (earlier) return answerReusedKey(earlier, input.file);
    const problems: InputProblem[] = [];
    const push = (problem: InputProblem | null) => problem && problems.push(problem);
    push(checkName(input.dataset, 'dataset name', ['input', 'dataset']));
    const columns = input.columns ? columnSpecs(input.columns) : null;
    if (columns) problems.push(...checkColumns(columns, ['input', 'columns'], this.limits.maxColumns));
    const csv = csvOptions(input.csv, problems);
    if (input.webhookUrl != null) push(checkWebhookUrl(input.webhookUrl, this.destinations, ['input', 'webhookUrl']));
    if (input.maxErrors != null && input.maxErrors < 0) {
      push({ code: 'INVALID_MAX_ERRORS', field: ['input', 'maxErrors'], message: 'maxErrors must be at least 0' });
    }
    const key = input.idempotencyKey ?? null;
    if (key !== null && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      push({ code: 'INVALID_IDEMPOTENCY_KEY', field: ['input', 'idempotencyKey'], message: `idempotencyKey must have 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` });
    }
    const { file } = input;
    const format: FileFormat = sniffFormat(file.head);
    let sheet: string | null = null;
    if (file.size === 0) {
      push({ code: 'EMPTY_FILE', field: ['input', 'file'], message: 'the file is empty' });
    } else if (input.format && input.format !== format) {
      push({ code: 'FORMAT_MISMATCH', field: ['input', 'format'], message: `the file was declared ${input.format} but its content is ${format}` });
    } else if (format === 'XLSX') {
      sheet = await this.resolveSheet(file, input.sheet ?? null, problems);
    }
    if (problems.length > 0) return { job: null, userErrors: problems };

    const existingDataset = await this.datasets.get(workspace, input.dataset);
    const mismatch = columns && existingDataset?.columns ? shapeMismatch(existingDataset.columns, datasetShape(columns)) : null;
    if (mismatch) return { job: null, userErrors: [{ code: 'SCHEMA_MISMATCH', field: ['input', 'columns'], message: mismatch }] };

    // The upload is the job's id in the blob store: durable before the job that names it is committed.
    const id = `${JOB_ID_PREFIX}${randomUUID()}`;
    await this.blobs.put(file, id);
    try {
      const outcome = await this.registry.create(
        {
          id,
          workspace,
          file: { name: file.name, format, size: file.size, sha256: file.sha256 },
          upload: id,
          options: { columns, csv, sheet, mode: input.mode ?? 'APPEND', maxErrors: input.maxErrors ?? null, webhookUrl: input.webhookUrl ?? null },
          idempotencyKey: key,
        },
        { name: input.dataset, columns: columns && datasetShape(columns) },
        (load) => admitJob(load, file.size, this.limits.workspaceLimits),
      );
      if (outcome.created) return { job: outcome.job, userErrors: [] };
      // A request with the same key committed in between.
      await this.blobs.delete(id);
      return answerReusedKey(outcome.job, file);
    } catch (error) {
      await this.blobs.delete(id);
      if (error instanceof WorkspaceLimitError) return { job: null, userErrors: [error.problem] };
      throw error;
    }
  }

  private async resolveSheet(file: StagedUpload, wanted: string | null, problems: InputProblem[]): Promise<string | null> {
    let sheets: string[];
    try {
      sheets = await listSheets(file.path, this.limits.zipLimits);
    } catch (error) {
      // A hostile directory (a bomb, 100k entries, `../` names) is the job's to refuse, with FILE_REJECTED: it
      // is not read any further here, and the job fails before inflating anything.
      if (error instanceof IngestError && error.code === 'FILE_REJECTED') return wanted;
      if (!(error instanceof NotAWorkbookError)) throw error;
      problems.push({ code: 'INVALID_FILE', field: ['input', 'file'], message: `the file is a zip archive but not a readable XLSX workbook: ${error.message}` });
      return null;
    }
    if (sheets.length === 0) {
      problems.push({ code: 'INVALID_FILE', field: ['input', 'file'], message: 'the workbook has no worksheet' });
      return null;
    }
    if (wanted !== null && !sheets.includes(wanted)) {
      problems.push({ code: 'UNKNOWN_SHEET', field: ['input', 'sheet'], message: `the workbook has no sheet "${wanted}"; it has: ${sheets.join(', ')}` });
      return null;
    }
    return wanted ?? sheets[0];
  }
}
