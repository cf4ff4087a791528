import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Api, connect, MAX_PAGE } from './api';
import { wholeNumber } from './arguments';
import { type ServerOptions, withServerOptions } from './endpoint';
import { noSuchJob, usageError } from './errors';
import { bytes, count, duration, keyMatches, percent, printFields, printTable, time } from './format';
import { CancelJobDocument, type JobDetailFragment, JobDetailDocument, type JobStatus, ListJobsDocument, type ListJobsQuery } from './generated';
import { checkWatchOptions, type WatchOptions, watchJob, withWatchOptions } from './watch';

const STATUSES: JobStatus[] = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];

type ListOptions = ServerOptions & { status?: JobStatus[]; dataset?: string; limit: number };
type ShowOptions = ServerOptions & WatchOptions & { json?: boolean };

export function addJobCommands(program: Command): void {
  withServerOptions(
    program
      .command('jobs')
      .description('list jobs, newest first')
      .option('--status <statuses>', `only jobs with these statuses, comma-separated: ${STATUSES.join(', ')}`, statuses)
      .option('--dataset <name>', "only this dataset's jobs")
      .addOption(new Option('--limit <n>', 'at most this many').default(50).argParser(wholeNumber(1))),
  ).action(async (options: ListOptions) => listJobs(await connect(options), options));
  withServerOptions(
    withWatchOptions(program.command('job').description('show a job (or follow it with --watch)').argument('<id>', 'the job id').option('--json', 'print the job as JSON')),
  ).action(showJob);
  withServerOptions(
    program.command('cancel').description('cancel a pending or running job; answers once it has stopped').argument('<id>', 'the job id'),
  ).action(async (id: string, options: ServerOptions) => cancelJob(await connect(options), id));
}

function statuses(value: string): JobStatus[] {
  const list = value.split(',').map((status) => status.trim().toUpperCase());
  const unknown = list.filter((status) => !STATUSES.includes(status as JobStatus));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown status ${unknown.join(', ')}; one of ${STATUSES.join(', ')}`);
  return list as JobStatus[];
}

async function listJobs(api: Api, { status, dataset, limit }: ListOptions): Promise<void> {
  const rows: string[][] = [];
  for (let after: string | null = null; rows.length < limit; ) {
    const { jobs }: ListJobsQuery = await api.request(ListJobsDocument, { first: Math.min(MAX_PAGE, limit - rows.length), after, status, dataset });
    for (const { node: job } of jobs.edges) {
      const { progress } = job;
      rows.push([job.id, job.status, job.dataset.name, percent(progress.percent), String(progress.processedRows), String(progress.rowsRejected), time(job.createdAt)]);
    }
    if (!jobs.pageInfo.hasNextPage) break;
    after = jobs.pageInfo.endCursor;
  }
  printTable(['ID', 'STATUS', 'DATASET', 'PERCENT', 'ROWS', 'REJECTED', 'CREATED'], rows);
}

async function showJob(id: string, options: ShowOptions): Promise<void> {
  checkWatchOptions(options);
  if (options.watch && options.json) throw usageError('--json and --watch do not go together');
  const api = await connect(options);
  if (options.watch) {
    process.exitCode = await watchJob(api, id, options);
    return;
  }
  const { job } = await api.request(JobDetailDocument, { id });
  if (!job) throw noSuchJob(id);
  if (options.json) console.log(JSON.stringify(job, null, 2));
  else printFields(jobFields(job));
}

function jobFields(job: JobDetailFragment): Array<[string, string]> {
  const { progress, result, error, issueCounts } = job;
  const fields: Array<[string, string]> = [
    ['id', job.id],
    ['status', `${job.status} (${job.stage})${job.stalled ? ', stalled' : ''}`],
    ['dataset', `${job.dataset.name}${job.dryRun ? ' (dry run: nothing is written to it)' : ''}`],
    ['file', `${job.file.name}, ${job.file.format}, ${bytes(job.file.size)}`],
    ['created', time(job.createdAt)],
    ['started', time(job.startedAt)],
    ['completed', time(job.completedAt)],
    ['progress', `${percent(progress.percent)}, ${count(progress.processedRows, 'row')} read, ${progress.rowsWritten} written, ${progress.rowsRejected} rejected`],
  ];
  if (result) fields.push(['result', `${count(result.rowsWritten, 'row')} written, ${keyMatches(result)}${result.rowsRejected} rejected, in ${duration(result.durationMs / 1000)}`]);
  if (error) fields.push(['error', `${error.code}: ${error.message}`]);
  fields.push(['issues', `${count(issueCounts.errors, 'error')}, ${count(issueCounts.warnings, 'warning')}${issueCounts.errors + issueCounts.warnings > 0 ? ` (sluice issues ${job.id})` : ''}`]);
  if (progress.rowsRejected > 0) fields.push(['rejected rows', `sluice rejects ${job.id}`]);
  fields.push(['attempts', `${job.attempts}${job.instance ? ` (instance ${job.instance})` : ''}`], ['expires', time(job.expiresAt)]);
  return [...fields, ...job.messages.map((message): [string, string] => [message.key, message.value])];
}

async function cancelJob(api: Api, id: string): Promise<void> {
  const { cancelJob } = await api.request(CancelJobDocument, { id });
  const [refusal] = cancelJob.userErrors;
  if (refusal?.code === 'NOT_FOUND') throw noSuchJob(id);
  if (refusal) throw usageError(`job ${id} was not cancelled: ${refusal.message}`);
  console.log(`${id} ${cancelJob.job!.status}`);
}
