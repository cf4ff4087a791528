import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { type Api, connect, MAX_PAGE } from './api';
import { withServerOptions, type ServerOptions } from './endpoint';
import { CliError, EXIT, noSuchJob } from './errors';
import { isTerminal } from './follow';
import { printTable, quoted } from './format';
import { send } from './http';
import { type IssueRowFragment, ListIssuesDocument, type ListIssuesQuery, RejectedRowsDocument } from './generated';

export function printIssueTable(issues: IssueRowFragment[]): void {
  const rows = issues.map((issue) => [issue.row === null ? '-' : String(issue.row), issue.column ?? '-', issue.code, issue.message, quoted(issue.value)]);
  printTable(['ROW', 'COLUMN', 'CODE', 'MESSAGE', 'VALUE'], rows);
}

export function addIssueCommands(program: Command): void {
  withServerOptions(program.command('issues').description("list a job's row issues (errors and warnings), all of them").argument('<id>', 'the job id')).action(
    async (id: string, options: ServerOptions) => printIssueTable(await allIssues(await connect(options), id)),
  );
  withServerOptions(
    program
      .command('rejects')
      .description("write the job's rejected rows to stdout as CSV: _row (the data row number), _errors, then the file's own columns")
      .argument('<id>', 'the job id')
      .addHelpText('after', '\nExample:\n  sluice rejects job_… > rejected-rows.csv'),
  ).action(async (id: string, options: ServerOptions) => writeRejectedRows(await connect(options), id));
}

/** Every issue of the job, page after page (the server keeps at most SLUICE_MAX_ISSUES_PER_JOB of them). */
async function allIssues(api: Api, id: string): Promise<IssueRowFragment[]> {
  const issues: IssueRowFragment[] = [];
  for (let after: string | null = null; ; ) {
    const { job }: ListIssuesQuery = await api.request(ListIssuesDocument, { id, first: MAX_PAGE, after });
    if (!job) throw noSuchJob(id);
    issues.push(...job.issues.edges.map((edge) => edge.node));
    if (!job.issues.pageInfo.hasNextPage) return issues;
    after = job.issues.pageInfo.endCursor;
  }
}

/** Streams the CSV from the job's signed link (a plain GET, no key) to stdout. */
async function writeRejectedRows(api: Api, id: string): Promise<void> {
  const { job } = await api.request(RejectedRowsDocument, { id });
  if (!job) throw noSuchJob(id);
  if (job.rejectedRowsUrl === null) {
    if (!isTerminal(job)) throw new CliError(`job ${id} is ${job.status}: its rejected rows can be read once it has ended`, EXIT.failed);
    process.stderr.write(`sluice: job ${id} has no rejected rows\n`);
    return;
  }
  const url = new URL(job.rejectedRowsUrl);
  const response = await send(url, { method: 'GET' }).catch((error: Error) => {
    throw new CliError(`cannot reach ${url.origin}: ${error.message}`, EXIT.unreachable);
  });
  if (response.statusCode !== 200) throw new CliError(`the rejected rows could not be read: HTTP ${response.statusCode} ${await text(response)}`, EXIT.failed);
  await pipeline(response, process.stdout).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error; // a reader that stopped early (| head) is no failure
  });
}
