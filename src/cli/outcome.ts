import type { Api } from './api';
import { noSuchJob } from './errors';
import { count, duration, keyMatches } from './format';
import { type JobOutcomeQuery, JobOutcomeDocument } from './generated';
import { printIssueTable } from './issues';

/** Issues shown at the end of a watched job; `sluice issues` lists them all. */
const SHOWN_ISSUES = 5;

type Outcome = NonNullable<JobOutcomeQuery['job']>;

/** How a job ended: its status with its result or error, its issue counts and first issues, and where its rejected rows are. */
export async function printOutcome(api: Api, id: string): Promise<void> {
  const { job } = await api.request(JobOutcomeDocument, { id, issues: SHOWN_ISSUES });
  if (!job) throw noSuchJob(id);
  console.log(headline(job));
  const { errors, warnings } = job.issueCounts;
  if (errors + warnings > 0) {
    const more = job.issues.totalCount > job.issues.edges.length ? `, the first ${job.issues.edges.length} below; all: sluice issues ${id}` : '';
    console.log(`issues: ${count(errors, 'error')}, ${count(warnings, 'warning')}${more}`);
    printIssueTable(job.issues.edges.map((edge) => edge.node));
  }
  if (job.progress.rowsRejected > 0) console.log(`rejected rows: sluice rejects ${id} > rejected-rows.csv`);
}

function headline(job: Outcome): string {
  if (job.error) return `${job.status}${job.error.code === job.status ? '' : `: ${job.error.code}`}: ${job.error.message}`;
  if (!job.result) return job.status;
  const { rowsWritten, rowsRejected, durationMs } = job.result;
  const took = `${keyMatches(job.result)}${rowsRejected} rejected, in ${duration(durationMs / 1000)}`;
  if (job.dryRun) return `${job.status} (dry run, nothing written): ${count(rowsWritten, 'row')} would be written to ${job.dataset.name}, ${took}`;
  return `${job.status}: ${count(rowsWritten, 'row')} written to ${job.dataset.name}, ${took}`;
}
