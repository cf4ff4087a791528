import { randomUUID } from 'node:crypto';
import { checkName, type ColumnSpec, type DatasetColumn, datasetShape, type InputProblem, shapeMismatch } from '../datasets/columns';
import { keyProblem } from '../datasets/key';
import { type FileFormat, type Job, JOB_ID_PREFIX } from '../jobs/model';
import type { JobRegistry } from '../jobs/registry';
import type { BlobStore, StagedUpload } from '../ports/blob-store';
import type { DatasetStore } from '../ports/dataset-store';
import type { JobStore } from '../ports/job-store';
import { sniffFormat } from './sniff';
import type { DestinationPolicy } from '../webhooks/destination';
import { type IngestInput, jobOptionsOf } from './ingest-input';
import { listSheets } from './xlsx-sheets';
import { NotAWorkbookError } from './zip-directory';
import type { Config } from '../config';
import { IngestError } from './ingest-error';
import { admitJob, WorkspaceLimitError } from '../workspaces/limits';

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

/** Why a job's columns or key do not fit the dataset's shape, or null (a key naming no column included). */
function datasetMisfit(dataset: readonly DatasetColumn[], columns: readonly ColumnSpec[] | null, key: readonly string[] | null): InputProblem | null {
  const mismatch = columns ? shapeMismatch(dataset, datasetShape(columns)) : null;
  if (mismatch) return { code: 'SCHEMA_MISMATCH', field: ['input', 'columns'], message: mismatch };
  const problem = key ? keyProblem(dataset, key, true) : null;
  return problem && { ...problem, field: ['input', 'key'] };
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
    const { options, problems } = jobOptionsOf(input, this.limits.maxColumns, this.destinations);
    const push = (problem: InputProblem | null) => problem && problems.push(problem);
    push(checkName(input.dataset, 'dataset name', ['input', 'dataset']));
    const { columns } = options;
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
    const misfit = existingDataset?.columns ? datasetMisfit(existingDataset.columns, columns, options.key) : null;
    if (misfit) return { job: null, userErrors: [misfit] };

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
          options: { ...options, sheet },
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
