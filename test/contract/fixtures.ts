import { randomUUID } from 'node:crypto';
import type { DatasetColumn } from '../../src/datasets/columns';
import type { Job, JobOptions } from '../../src/jobs/model';
import type { Engine } from '../../src/ports/engine';
import type { NewJob } from '../../src/ports/job-store';
import type { Attempt } from '../../src/ports/row-sink';

export const WORKSPACE = 'contract';

export const COLUMNS: DatasetColumn[] = [
  { name: 'code', type: 'STRING', required: true, unique: true },
  { name: 'n', type: 'INTEGER', required: false },
];

export function jobOptions(overrides: Partial<JobOptions> = {}): JobOptions {
  return {
    columns: null,
    csv: { delimiter: null, quote: '"', header: true, encoding: 'utf-8' },
    sheet: null,
    mode: 'APPEND',
    maxErrors: null,
    webhookUrl: null,
    nullValues: [],
    skipRows: 0,
    dryRun: false,
    key: null,
    ...overrides,
  };
}

export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  const id = `job_${randomUUID()}`;
  return {
    id,
    workspace: WORKSPACE,
    file: { name: 'file.csv', format: 'CSV', size: 100, sha256: 'a'.repeat(64) },
    upload: id,
    options: jobOptions(),
    idempotencyKey: null,
    now: Date.now(),
    ...overrides,
  };
}

/** Creates a job (and its dataset, on its first job) with no workspace limit. */
export async function createJob(engine: Engine, dataset = 'people', overrides: Partial<NewJob> = {}, columns: DatasetColumn[] | null = COLUMNS): Promise<Job> {
  const { job } = await engine.jobs.create(newJob(overrides), { name: dataset, columns }, () => {});
  return job;
}

/** Claims the next runnable job as `owner`, failing the test when there is none. */
export async function claim(engine: Engine, owner = 'instance-a', leaseMs = 60_000): Promise<Job> {
  const claimed = await engine.jobs.claimNext({ owner, leaseMs, now: Date.now() });
  if (!claimed) throw new Error('nothing was runnable');
  return claimed.after;
}

/** The attempt a claimed job's worker writes as. */
export function attemptOf(job: Job, leaseMs = 60_000): Attempt {
  return { jobNum: job.num, datasetId: job.datasetId, leaseToken: job.lease!.token, leaseMs };
}
