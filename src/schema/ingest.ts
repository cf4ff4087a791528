import { Draining } from '../server/draining';
import { INGEST_MODES } from '../jobs/model';
import { builder } from './builder';
import { ColumnType } from './dataset';
import { FileFormat, Job, jobOfWorkspace } from './job';
import { UserError } from './user-error';

const IngestMode = builder.enumType('IngestMode', { values: INGEST_MODES });

const ColumnInput = builder.inputType('ColumnInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    type: t.field({ type: ColumnType, required: true }),
    required: t.boolean({ description: 'A blank value rejects the row (default false)' }),
    unique: t.boolean({ description: 'No two visible rows may share a value (default false)' }),
    pattern: t.string({ description: 'Regular expression in RE2 syntax (matched in linear time, by code point, unanchored: use ^...$ for the whole value) a STRING or EMAIL value must match; no lookaround or backreferences' }),
    min: t.float({ description: 'INTEGER/DECIMAL lower bound, or STRING/EMAIL minimum length' }),
    max: t.float({ description: 'INTEGER/DECIMAL upper bound, or STRING/EMAIL maximum length' }),
    values: t.stringList({ description: 'Allowed values, compared after conversion to the column type' }),
    aliases: t.stringList({ description: 'Other header names that mean this column (headers match names and aliases trimmed, in any case)' }),
    format: t.string({
      description: "DATE/DATETIME: the layout of the file's text, from the tokens YYYY MM DD HH mm ss and separators, e.g. DD/MM/YYYY or MM/DD/YYYY HH:mm (default ISO 8601); stored values stay ISO",
    }),
  }),
});

const CsvOptionsInput = builder.inputType('CsvOptionsInput', {
  fields: (t) => ({
    delimiter: t.string({ description: 'Detected from the header line when absent (comma, semicolon, tab or pipe)' }),
    quote: t.string({ description: 'Default "' }),
    header: t.boolean({ description: 'Whether the first record is a header (default true)' }),
    encoding: t.string({ description: 'Any WHATWG encoding label (default utf-8)' }),
  }),
});

const IngestInput = builder.inputType('IngestInput', {
  fields: (t) => ({
    file: t.field({ type: 'File', required: true }),
    dataset: t.string({ required: true }),
    format: t.field({ type: FileFormat, description: 'Detected from the content when absent' }),
    columns: t.field({ type: [ColumnInput], description: "Inferred from the header and a sample when absent (or taken from the dataset's columns)" }),
    csv: t.field({ type: CsvOptionsInput }),
    sheet: t.string({ description: 'XLSX worksheet name; the first sheet when absent' }),
    mode: t.field({ type: IngestMode, description: 'APPEND by default; UPSERT replaces the rows whose key a row of the file has, and adds the others' }),
    maxErrors: t.int({ description: 'More rejected rows than this fails the job (TOO_MANY_ERRORS)' }),
    idempotencyKey: t.string(),
    webhookUrl: t.string({ description: "Receives a signed job.completed / job.failed / job.cancelled event (Standard Webhooks, the workspace's signing secret)" }),
    nullValues: t.stringList({ description: 'Cell texts read as empty (compared trimmed, case-sensitive), e.g. ["NA", "NULL", "-"]; the empty text always is' }),
    skipRows: t.int({ description: 'Lines (CSV) or sheet rows (XLSX) before the header to skip, not read as records (default 0)' }),
    key: t.stringList({
      description:
        "The columns whose values together identify a row: the dataset's key, declared by the job that gives it its columns (later jobs repeat it or leave it out). Required with UPSERT",
    }),
    dryRun: t.boolean({
      description: 'Validate and count only (default false): the job runs through to COMPLETED with its issues and counts, and the dataset is left as it is (a new name creates none)',
    }),
  }),
});

const IngestPayload = builder.objectRef<{ job: unknown; userErrors: unknown[] }>('IngestPayload');
const CancelJobPayload = builder.objectRef<{ job: unknown; userErrors: unknown[] }>('CancelJobPayload');
for (const payload of [IngestPayload, CancelJobPayload]) {
  payload.implement({
    fields: (t) => ({
      job: t.field({ type: Job, nullable: true, resolve: (p) => p.job as never }),
      userErrors: t.field({ type: [UserError], resolve: (p) => p.userErrors as never }),
    }),
  });
}

builder.mutationFields((t) => ({
  ingest: t.field({
    type: IngestPayload,
    description: 'Answers once the file is spooled and the job committed; the job runs in the background',
    args: { input: t.arg({ type: IngestInput, required: true }) },
    resolve: async (_root, { input }, { workspace, services }) => {
      if (services.draining.active) throw Draining.error();
      // The job's creation is published: the instances that run jobs claim it from there.
      return services.submission.submit(workspace, input);
    },
  }),
  cancelJob: t.field({
    type: CancelJobPayload,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, { workspace, services }) => {
      const job = await jobOfWorkspace(String(id), workspace, services.jobs);
      if (!job) return { job: null, userErrors: [{ code: 'NOT_FOUND', field: ['id'], message: 'no such job' }] };
      const notCancellable = (ended: { status: string }) => [{ code: 'NOT_CANCELLABLE', field: ['id'], message: `the job is already ${ended.status}` }];
      if (job.status !== 'PENDING' && job.status !== 'RUNNING') return { job, userErrors: notCancellable(job) };
      // The job may end otherwise meanwhile (its worker had already finished): then it is left as it ended.
      const outcome = await services.canceller.cancel(job);
      return { job: outcome, userErrors: outcome && outcome.status !== 'CANCELLED' ? notCancellable(outcome) : [] };
    },
  }),
}));
