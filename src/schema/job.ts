import { FILE_FORMATS, type Issue as IssueRecord, type Job as JobRecord, JOB_ID_PREFIX, JOB_STATUSES, rowsInserted } from '../jobs/model';
import { builder } from './builder';
import { Dataset } from './dataset';
import { connection, connectionType, decodeCursor, encodeCursor, pageSize } from './pagination';

export const JobStatus = builder.enumType('JobStatus', { values: JOB_STATUSES });
export const FileFormat = builder.enumType('FileFormat', { values: FILE_FORMATS });
export const IssueSeverity = builder.enumType('IssueSeverity', { values: ['ERROR', 'WARNING'] as const });

export const Node = builder.interfaceRef<JobRecord>('Node').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
  resolveType: () => 'Job',
});

const FileInfo = builder.objectRef<JobRecord['file']>('FileInfo').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    format: t.field({ type: FileFormat, resolve: (f) => f.format }),
    size: t.float({ resolve: (f) => f.size }),
    sha256: t.exposeString('sha256'),
  }),
});

interface ProgressView {
  processedRows: number;
  totalRows: number | null;
  rowsWritten: number;
  rowsRejected: number;
  bytesRead: number;
  totalBytes: number;
  percent: number;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
}

/** Below 100 until the job is COMPLETED, so that 100 % always means done. */
const MAX_UNFINISHED_PERCENT = 99.9;

export function progressOf(job: JobRecord, now: number): ProgressView {
  const { processedRows, totalRows, rowsWritten, rowsRejected, bytesRead } = job.progress;
  const totalBytes = job.file.size;
  const fraction = totalRows ? processedRows / totalRows : totalBytes > 0 ? bytesRead / totalBytes : 0;
  const percent = job.status === 'COMPLETED' ? 100 : Math.min(MAX_UNFINISHED_PERCENT, Math.round(fraction * 1000) / 10);
  // Rate and ETA follow the running (or last) attempt alone: rows of earlier attempts were not read in its time.
  const attempt = job.attempt;
  const attemptSeconds = attempt === null ? 0 : ((job.completedAt ?? now) - attempt.startedAt) / 1000;
  const attemptRows = processedRows - (attempt?.rows ?? 0);
  const attemptBytes = bytesRead - (attempt?.bytes ?? 0);
  const rowsPerSecond = attemptSeconds > 0 && attemptRows > 0 ? attemptRows / attemptSeconds : null;
  let etaSeconds: number | null = null;
  if (job.status === 'COMPLETED') etaSeconds = 0;
  else if (job.status === 'RUNNING' && attemptBytes > 0 && attemptSeconds > 0) etaSeconds = (attemptSeconds * Math.max(0, totalBytes - bytesRead)) / attemptBytes;
  return { processedRows, totalRows, rowsWritten, rowsRejected, bytesRead, totalBytes, percent, rowsPerSecond, etaSeconds };
}

const Progress = builder.objectRef<ProgressView>('Progress').implement({
  fields: (t) => ({
    processedRows: t.exposeInt('processedRows', { description: 'Rows read so far (valid and rejected)' }),
    totalRows: t.exposeInt('totalRows', { nullable: true, description: 'Null until known' }),
    rowsWritten: t.exposeInt('rowsWritten'),
    rowsRejected: t.exposeInt('rowsRejected'),
    bytesRead: t.exposeFloat('bytesRead', {
      description: "How far reading has got, in bytes of the file: CSV bytes read; for XLSX the worksheet's share read times totalBytes (the parts read before it do not count)",
    }),
    totalBytes: t.exposeFloat('totalBytes', { description: 'The file size' }),
    percent: t.exposeFloat('percent', { description: '0..100, by bytes until the row total is known; 100 only when COMPLETED' }),
    rowsPerSecond: t.exposeFloat('rowsPerSecond', { nullable: true }),
    etaSeconds: t.exposeFloat('etaSeconds', { nullable: true }),
  }),
});

const Message = builder.objectRef<{ key: string; value: string }>('Message').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

const IssueCounts = builder.objectRef<{ errors: number; warnings: number }>('IssueCounts').implement({
  fields: (t) => ({ errors: t.exposeInt('errors'), warnings: t.exposeInt('warnings') }),
});

type IssueWithIndex = IssueRecord & { index: number };

const Issue = builder.objectRef<IssueWithIndex>('Issue').implement({
  fields: (t) => ({
    severity: t.field({ type: IssueSeverity, resolve: (i) => i.severity }),
    code: t.exposeString('code', { description: 'Errors: REQUIRED, TYPE_MISMATCH, PATTERN, RANGE, ENUM, UNIQUE, MALFORMED_ROW; warnings: EXTRA_COLUMN, MISSING_COLUMN, EXTRA_CELLS' }),
    message: t.exposeString('message'),
    row: t.exposeInt('row', { nullable: true, description: '1-based data row number (header excluded)' }),
    column: t.exposeString('column', { nullable: true }),
    value: t.exposeString('value', { nullable: true }),
  }),
});

const IssueConnection = connectionType('Issue', Issue);

interface JobResultRecord {
  rowsWritten: number;
  rowsRejected: number;
  durationMs: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsUnchanged: number;
}

const JobResult = builder.objectRef<JobResultRecord>('JobResult').implement({
  fields: (t) => ({
    rowsWritten: t.exposeInt('rowsWritten', { description: 'Rows accepted: inserted + updated + unchanged' }),
    rowsRejected: t.exposeInt('rowsRejected'),
    durationMs: t.exposeFloat('durationMs'),
    rowsInserted: t.exposeInt('rowsInserted', { description: 'Rows added to the dataset (every row written, but for UPSERT)' }),
    rowsUpdated: t.exposeInt('rowsUpdated', { description: 'UPSERT: rows replacing the row with their key, whose values differed' }),
    rowsUnchanged: t.exposeInt('rowsUnchanged', { description: 'UPSERT: rows whose key the dataset had with the same values: nothing was rewritten' }),
  }),
});

const JobError = builder.objectRef<{ code: string; message: string }>('JobError').implement({
  fields: (t) => ({ code: t.exposeString('code'), message: t.exposeString('message') }),
});

export const Job = builder.objectRef<JobRecord>('Job').implement({
  interfaces: [Node],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'num' in value && 'sequence' in value,
  fields: (t) => ({
    status: t.field({ type: JobStatus, resolve: (job) => job.status }),
    stage: t.exposeString('stage', { description: 'queued, starting, parsing (resuming, when an attempt picks up from a checkpoint), finalizing, done, failed or cancelled' }),
    dataset: t.field({ type: Dataset, resolve: async (job, _args, { services }) => (await services.datasets.getById(job.datasetId))! }),
    file: t.field({ type: FileInfo, resolve: (job) => job.file }),
    dryRun: t.boolean({ description: 'Validated and counted only: nothing of it is written to the dataset', resolve: (job) => job.options.dryRun }),
    progress: t.field({ type: Progress, resolve: (job) => progressOf(job, Date.now()) }),
    messages: t.field({
      type: [Message],
      description: 'Facts found while processing (format, delimiter, encoding, sheet, inferred columns), latest value per key',
      resolve: (job) => Object.entries(job.messages).map(([key, value]) => ({ key, value })),
    }),
    issueCounts: t.field({ type: IssueCounts, resolve: (job) => ({ errors: job.progress.issueErrors, warnings: job.progress.issueWarnings }) }),
    issues: t.field({
      type: IssueConnection,
      args: { first: t.arg.int(), after: t.arg.string(), severity: t.arg({ type: IssueSeverity }) },
      resolve: async (job, args, context, info) => {
        const { services } = context;
        const size = pageSize(args.first, context, info);
        const after = decodeCursor('issue', args.after);
        const severity = args.severity ?? null;
        const items = await services.jobs.issues(job.num, severity, size + 1, after ?? -1);
        return connection(items, size, after, (issue) => encodeCursor('issue', issue.index), () => services.jobs.issueCount(job.num, severity));
      },
    }),
    result: t.field({
      type: JobResult,
      nullable: true,
      description: 'Set when COMPLETED',
      resolve: (job) =>
        job.status === 'COMPLETED'
          ? {
              rowsWritten: job.progress.rowsWritten,
              rowsRejected: job.progress.rowsRejected,
              durationMs: job.completedAt! - job.startedAt!,
              rowsInserted: rowsInserted(job),
              rowsUpdated: job.checkpoint?.keyMatches?.updated ?? 0,
              rowsUnchanged: job.checkpoint?.keyMatches?.unchanged ?? 0,
            }
          : null,
    }),
    error: t.field({
      type: JobError,
      nullable: true,
      description: 'Set when FAILED or CANCELLED',
      resolve: (job) => (job.status === 'FAILED' || job.status === 'CANCELLED' ? job.error : null),
    }),
  }),
});

/** The job's attempts, its instance and its times. */
builder.objectFields(Job, (t) => ({
    attempts: t.exposeInt('attempts', {
      description:
        'Attempts started (1 on the first run). An attempt interrupted by a crash or a lapsed lease resumes from its checkpoint as the next one; after SLUICE_MAX_ATTEMPTS the job fails with INTERRUPTED. A hand-over at a graceful stop does not count.',
    }),
    instance: t.exposeString('instance', {
      nullable: true,
      description: 'The Sluice instance that runs, or last ran, the job (as its /health names it); null before its first claim',
    }),
    sequence: t.exposeInt('sequence', { description: 'Grows by at least 1 on every change of the job' }),
    createdAt: t.field({ type: 'DateTime', resolve: (job) => job.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.startedAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'Heartbeat: advances at least every few seconds while RUNNING', resolve: (job) => job.updatedAt }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.completedAt }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the finished job, its issues and webhook deliveries are deleted (its rows stay in the dataset)',
      resolve: (job, _args, { services }) => (job.completedAt === null ? null : job.completedAt + services.config.jobRetentionMs),
    }),
    stalled: t.boolean({
      description: 'RUNNING and updatedAt older than the stall threshold',
      resolve: (job, _args, { services }) => job.status === 'RUNNING' && Date.now() - job.updatedAt > services.config.stallThresholdMs,
    }),
    rejectedRowsUrl: t.string({
      nullable: true,
      description:
        'Once the job has ended with rejected rows: a signed link, working without an API key until it expires (SLUICE_REJECTED_ROWS_LINK_TTL_MS, 1 hour by default), to a CSV of them: _row (the data row number), _errors, then the file\'s own columns as read. Null while the job runs, and when it rejected none',
      resolve: (job, _args, { services, origin }) => services.rejectedRows.link(job, origin, Date.now()),
    }),
}));

const JobConnection = connectionType('Job', Job);

/** A job of the caller's workspace, or null: another workspace's job is as absent as an unknown id. */
export async function jobOfWorkspace(id: string, workspace: string, jobs: { get(id: string): Promise<JobRecord | null> }): Promise<JobRecord | null> {
  if (!id.startsWith(JOB_ID_PREFIX)) return null;
  const job = await jobs.get(id);
  return job && job.workspace === workspace ? job : null;
}

builder.queryFields((t) => ({
  node: t.field({
    type: Node,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { workspace, services }) => jobOfWorkspace(String(id), workspace, services.jobs),
  }),
  job: t.field({
    type: Job,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { workspace, services }) => jobOfWorkspace(String(id), workspace, services.jobs),
  }),
  jobs: t.field({
    type: JobConnection,
    description: 'Jobs of the workspace, newest first',
    args: {
      first: t.arg.int(),
      after: t.arg.string(),
      status: t.arg({ type: [JobStatus] }),
      dataset: t.arg.string(),
    },
    resolve: async (_root, args, context, info) => {
      const { workspace, services } = context;
      const size = pageSize(args.first, context, info);
      const before = decodeCursor('job', args.after);
      let datasetId: number | undefined;
      if (args.dataset != null) {
        const id = await services.datasets.idOf(workspace, args.dataset);
        if (id === null) return connection<JobRecord>([], size, before, () => '', () => 0);
        datasetId = id;
      }
      const filter = { workspace, statuses: args.status ?? undefined, datasetId };
      const items = await services.jobs.list(filter, size + 1, before);
      return connection(items, size, before, (job) => encodeCursor('job', job.num), () => services.jobs.count(filter));
    },
  }),
}));
