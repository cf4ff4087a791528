import { describe, expect } from 'vitest';
import { type ColumnInput, DatasetDocument, type JobFieldsFragment } from '../generated/graphql';
import { type Cluster, clusterTest, exitOf, type Member, SHORT_LEASES, waitUntilProcessed } from '../helpers/cluster';
import { csvFileForSuite } from '../helpers/files';
import { submit } from '../helpers/queries';
import { TERMINAL, waitForJob } from '../helpers/server';

// The instance running a job dies (SIGKILL) or freezes (SIGSTOP) mid-file: another instance takes the
// job over once its lease lapses and resumes it from its checkpoint; the dataset holds every row
// exactly once, and a frozen instance that wakes finds its lease lost and writes nothing.

/** Lean rows (a UNIQUE key and a short text), so that a million of them go in within the test's time. */
const KEYED_COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true, unique: true },
  { name: 'label', type: 'STRING', required: true },
];
const keyedFile = (rows: number) => csvFileForSuite('id,label', rows, (i) => `${i},row ${i}`);

const MILLION = 1_000_000;
const million = keyedFile(MILLION);
const FROZEN_ROWS = 400_000;
const frozenFile = keyedFile(FROZEN_ROWS);

const env = { all: SHORT_LEASES };

/** Uploads on A, waits until a fifth of the file is processed; the job, and the member running it. */
async function runningJob(cluster: Cluster, dataset: string, path: string, rows: number): Promise<{ job: JobFieldsFragment; runner: Member }> {
  const { id } = await submit(cluster.A.client, { dataset, columns: KEYED_COLUMNS }, path);
  const job = await waitUntilProcessed(cluster.A.client, id, rows / 5, 60_000);
  return { job, runner: cluster.byInstance(job.instance) };
}

/** The job was claimed again (or ended). */
const secondAttempt = (job: JobFieldsFragment) => job.attempts >= 2 || TERMINAL.has(job.status);

/** Another member than `runner`, to ask while it is gone. */
const witness = (cluster: Cluster, runner: Member) => cluster.members.find((member) => member !== runner)!;

/** The job completed on its second attempt, run last by another instance than `runner`, the dataset holding each of its `rows` rows once, and nothing else stored. */
async function expectTakenOverAndExact(cluster: Cluster, job: JobFieldsFragment, runner: Member, rows: number): Promise<void> {
  expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null, issueCounts: { errors: 0 } });
  expect(job.progress).toMatchObject({ processedRows: rows, rowsWritten: rows, rowsRejected: 0 });
  expect(job.instance).not.toBe(runner.id);
  expect(cluster.members.map((member) => member.id)).toContain(job.instance);
  const { dataset } = await witness(cluster, runner).client.request(DatasetDocument, { name: job.dataset.name, first: 0 });
  expect(dataset).toMatchObject({ rowCount: rows, rows: { totalCount: rows } });
  expect(await cluster.storedRows(job.dataset.name)).toEqual({ visible: rows, distinct: rows, stored: rows });
}

/** The log lines an instance wrote (JSON on stdout). */
const logOf = (member: Member) => member.process.output.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('a job whose connection to the database is lost', () => {
  clusterTest("its ingest connection killed mid-file: queued again, resumed from its checkpoint, completed with every row once", env, async (cluster) => {
    const { job, runner } = await runningJob(cluster, 'disconnected', frozenFile(), FROZEN_ROWS);
    const [{ killed }] = await cluster.sql<{ killed: number }>(
      'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity WHERE application_name = $1',
      [`sluice/ingest/${runner.id}`],
    );
    expect(killed).toBe(1);
    const done = await waitForJob(runner.client, job.id, undefined, 120_000);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2, error: null, issueCounts: { errors: 0 } });
    expect(done.progress).toMatchObject({ processedRows: FROZEN_ROWS, rowsWritten: FROZEN_ROWS, rowsRejected: 0 });
    expect(await cluster.storedRows('disconnected')).toEqual({ visible: FROZEN_ROWS, distinct: FROZEN_ROWS, stored: FROZEN_ROWS });
    const requeued = logOf(runner).find((line) => line.msg === 'job interrupted; queued again');
    expect(requeued, 'the runner queued the job again').toMatchObject({ jobId: job.id, reason: expect.stringContaining('connection to the database') });
    expect(requeued!.resumesAt, 'from a checkpoint, not from the start').toBeGreaterThan(1);
  }, 180_000);
});

describe('takeover of a job whose instance is gone', () => {
  clusterTest(`SIGKILL of the instance running a ${MILLION}-row job: another takes it over and completes it, every row once`, env, async (cluster) => {
    const { job, runner } = await runningJob(cluster, 'killed', million(), MILLION);
    expect(await runner.process.kill('SIGKILL')).toBeNull();
    const other = witness(cluster, runner);
    const taken = await waitForJob(other.client, job.id, secondAttempt, 40_000);
    expect(taken.progress.processedRows, 'resumed from a checkpoint, not from the start').toBeGreaterThan(0);
    const done = await waitForJob(other.client, job.id, undefined, 180_000);
    await expectTakenOverAndExact(cluster, done, runner, MILLION);
  }, 330_000);

  clusterTest('SIGSTOP past the lease: another takes the job over; woken, the frozen instance writes nothing and exits', env, async (cluster) => {
    const { job, runner } = await runningJob(cluster, 'frozen', frozenFile(), FROZEN_ROWS);
    process.kill(runner.process.pid, 'SIGSTOP');
    const other = witness(cluster, runner);
    let taken: JobFieldsFragment;
    try {
      taken = await waitForJob(other.client, job.id, secondAttempt, 40_000);
    } finally {
      process.kill(runner.process.pid, 'SIGCONT');
    }
    expect(taken).toMatchObject({ status: 'RUNNING', attempts: 2 });
    expect(taken.instance).not.toBe(runner.id);
    const done = await waitForJob(other.client, job.id, undefined, 90_000);
    // Woken, it finds its registration gone: it says so (a fatal line) and exits 1, by design.
    expect(await exitOf(runner, 'the woken instance to exit')).toBe(1);
    expect(logOf(runner)).toContainEqual(expect.objectContaining({ level: 60, msg: expect.stringContaining('was lost') }));
    await expectTakenOverAndExact(cluster, await waitForJob(other.client, done.id), runner, FROZEN_ROWS);
    expect(await cluster.sql('SELECT id FROM instances WHERE id = $1', [runner.id])).toEqual([]);
  }, 180_000);
});
