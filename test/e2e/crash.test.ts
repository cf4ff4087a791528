import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetDocument, type JobFieldsFragment, JobDocument, JobWebhookDeliveriesDocument, RegisterWebhookDocument } from '../generated/graphql';
import { allIssues, forEachRowPage, killWhileWriteLocked, openWriteLockProbe, type WriteLockProbe, writeEncodedCsv, writeGeneratedXlsx } from '../helpers/crash';
import { ON_POSTGRES } from '../helpers/engine';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv } from '../helpers/files';
import { type ServerProcess, startServerProcess } from '../helpers/process';
import { type IngestFileInput, submit } from '../helpers/queries';
import { startReceiver } from '../helpers/receiver';
import { removeDataDir, TERMINAL, waitForJob } from '../helpers/server';

// The service as a child process, SIGKILLed where a crash could lose or repeat work: an upload
// spooled whose job has not started, a job claimed before its first checkpoint, early in parsing,
// inside a batch's write transaction, just before completion, twice in one job; for UTF-8 CSV (resumed
// at a byte offset), and for windows-1252 CSV and XLSX (resumed by re-reading and skipping rows).
// After each restart the job must go on from its checkpoint and end COMPLETED with every valid row
// written once (compared by content) and every rejected row reported once; a job interrupted on each
// of its attempts must end FAILED with INTERRUPTED.

/** Rows of the large file: enough that each kill point is reached well before the job ends. */
const ROWS = 500_000;

interface ExpectedIssue {
  row: number;
  code: string;
  column: string | null;
  value: string | null;
}

/** One way a generated row is invalid: how its line is spoiled, and the one issue it must get. */
interface Flaw {
  spoil(line: string, i: number): string;
  issue(i: number): Omit<ExpectedIssue, 'row'>;
}

const FLAWS = {
  email: {
    spoil: (line, i) => line.replace(`person${i}@example.com`, `person${i}.example.com`),
    issue: (i) => ({ code: 'TYPE_MISMATCH', column: 'email', value: `person${i}.example.com` }),
  },
  id: {
    spoil: (line) => `x${line}`,
    issue: (i) => ({ code: 'TYPE_MISMATCH', column: 'id', value: `x${i}` }),
  },
  // Row 1 is valid: its id is taken by the time any later row claims it, whichever attempt wrote it.
  duplicate: {
    spoil: (line, i) => `1${line.slice(String(i).length)}`,
    issue: () => ({ code: 'UNIQUE', column: 'id', value: '1' }),
  },
  blankName: {
    spoil: (line) => line.replace(/"[^"]*"/, ''),
    issue: () => ({ code: 'REQUIRED', column: 'name', value: null }),
  },
  missingField: {
    spoil: (line) => line.slice(0, line.lastIndexOf(',')),
    issue: () => ({ code: 'MALFORMED_ROW', column: null, value: null }),
  },
  // `"Person 7" Jr.,…`: a quote closed inside the field; the parser skips the record.
  strayQuote: {
    spoil: (line) => line.replace(/, Jr\."/, '" Jr.'),
    issue: () => ({ code: 'MALFORMED_ROW', column: null, value: null }),
  },
} satisfies Record<string, Flaw>;

type FlawName = keyof typeof FLAWS;

/** Which rows of a file of `rows` rows have which flaw (the first that applies): all over the file, its very start and end too. */
function flawSchedule(rows: number): Array<[FlawName, (i: number) => boolean]> {
  return [
    ['email', (i) => i === 2 || i === rows - 2 || i % 1009 === 0],
    ['missingField', (i) => i === rows - 1 || i % 4001 === 0],
    ['strayQuote', (i) => i === rows || i % 5003 === 0],
    ['id', (i) => i % 2003 === 0],
    ['duplicate', (i) => i % 3001 === 0],
    ['blankName', (i) => i % 6007 === 0],
  ];
}

/** How the rows of a people file read when valid, and what the dataset must hold for them. */
interface People {
  line(i: number): string;
  expected(id: number): Record<string, unknown>;
}

/** "é" takes two bytes in UTF-8 and one in windows-1252: a resume that took characters for bytes would land inside a record. */
const ACCENTED: People = {
  line: (i) => personLine(i).replace('"Person', '"Pérson'),
  expected: (id) => ({ ...expectedPerson(id), name: `Pérson ${id}, Jr.` }),
};

const PLAIN: People = { line: personLine, expected: expectedPerson };

/** A generated people file and what ingesting it must give: the valid rows' ids in file order, and the issues in row order. */
interface PeopleFile extends People {
  rows: number;
  validIds: number[];
  issues: ExpectedIssue[];
}

function peopleFile(rows: number, people: People, kinds: readonly FlawName[]): PeopleFile {
  const schedule = flawSchedule(rows).filter(([name]) => kinds.includes(name));
  const flawOf = (i: number) => schedule.find(([, applies]) => applies(i))?.[0] ?? null;
  const validIds: number[] = [];
  const issues: ExpectedIssue[] = [];
  for (let i = 1; i <= rows; i++) {
    const flaw = flawOf(i);
    if (flaw) issues.push({ row: i, ...FLAWS[flaw].issue(i) });
    else validIds.push(i);
  }
  return {
    rows,
    line: (i) => {
      const flaw = flawOf(i);
      return flaw ? FLAWS[flaw].spoil(people.line(i), i) : people.line(i);
    },
    expected: people.expected,
    validIds,
    issues,
  };
}

const ALL_FLAWS = Object.keys(FLAWS) as FlawName[];
const people = peopleFile(ROWS, ACCENTED, ALL_FLAWS);

/** A JSON text of a row that does not depend on the order of its keys. */
const canonical = (values: Record<string, unknown>) => JSON.stringify(values, Object.keys(values).sort());

/** The job ended COMPLETED after `attempts` attempts, its counters and issues exact, the dataset holding exactly the valid rows. */
async function expectExactIngest(client: ServerProcess['client'], job: JobFieldsFragment, file: PeopleFile, attempts: number): Promise<void> {
  const written = file.validIds.length;
  const rejected = file.rows - written;
  expect(job.status).toBe('COMPLETED');
  expect(job.error).toBeNull();
  expect(job.attempts).toBe(attempts);
  expect(job.progress).toMatchObject({ processedRows: file.rows, totalRows: file.rows, rowsWritten: written, rowsRejected: rejected });
  expect(job.result).toMatchObject({ rowsWritten: written, rowsRejected: rejected });
  // Each invalid row has exactly one issue.
  expect(job.issueCounts).toEqual({ errors: rejected, warnings: 0 });
  const issues = (await allIssues(client, job.id)).map(({ row, code, column, value, severity }) => ({ row, code, column, value, severity }));
  expect(issues).toEqual(file.issues.map((issue) => ({ ...issue, severity: 'ERROR' })));
  await expectDatasetRows(client, job.dataset.name, file);
}

/** The dataset's visible rows are the file's valid rows, in file order, each once, with their values. */
async function expectDatasetRows(client: ServerProcess['client'], dataset: string, file: PeopleFile): Promise<void> {
  const mismatches: string[] = [];
  let seen = 0;
  await forEachRowPage(client, dataset, (rows) => {
    for (const { values } of rows) {
      const id = file.validIds[seen++];
      const got = canonical(values);
      const want = id === undefined ? 'no row' : canonical(file.expected(id));
      if (got !== want && mismatches.length < 5) mismatches.push(`visible row ${seen}: got ${got}, expected ${want}`);
    }
  });
  expect(mismatches).toEqual([]);
  expect(seen).toBe(file.validIds.length);
}

/** Stops the run of a job with SIGKILL at some moment; returns the job as it was seen (committed) before the kill. */
type KillPoint = (server: ServerProcess, jobId: string, probe: () => WriteLockProbe) => Promise<JobFieldsFragment>;

/** Kills as soon as the job is seen RUNNING with at least `atLeast` rows processed; seen with `below` or more, the kill point was missed. */
function whenProcessed(atLeast: number, below = Number.POSITIVE_INFINITY): KillPoint {
  return async (server, jobId) => {
    const job = await waitForJob(server.client, jobId, (j) => TERMINAL.has(j.status) || (j.status === 'RUNNING' && j.progress.processedRows >= atLeast));
    await server.kill('SIGKILL');
    expect(job.status).toBe('RUNNING');
    expect(job.progress.processedRows).toBeLessThan(below);
    return job;
  };
}

/**
 * Kills the restarted service as soon as it claimed the job again (SQLite's claims it before it
 * listens; PostgreSQL's a moment after): its new attempt (a worker starting, then checking the
 * upload) has committed no progress yet.
 */
const claimedAgain: KillPoint = async (server, jobId) => {
  const job = await waitForJob(server.client, jobId, (j) => j.status !== 'PENDING', 10_000);
  await server.kill('SIGKILL');
  expect(job.status).toBe('RUNNING');
  return job;
};

/** Once `rows` rows are processed, kills while a batch's write transaction is open. */
function insideWriteTransaction(rows: number): KillPoint {
  return async (server, jobId, probe) => {
    const job = await waitForJob(server.client, jobId, (j) => TERMINAL.has(j.status) || (j.status === 'RUNNING' && j.progress.processedRows >= rows));
    expect(job.status).toBe('RUNNING');
    expect(await killWhileWriteLocked(server, probe(), 10_000)).toBe(true);
    return job;
  };
}

/**
 * Starts the service on a fresh data directory, lets `submitJob` create the job under test, then for
 * each kill point kills the service there and starts it again on the same directory; finally waits
 * for the job to end and hands it to `check`. After each restart the job's committed counters must
 * not have gone back: the next attempt resumes from the checkpoint instead of starting over.
 */
async function ingestThroughCrashes(options: {
  env?: Record<string, string>;
  submitJob(server: ServerProcess): Promise<string>;
  kills: KillPoint[];
  check(server: ServerProcess, job: JobFieldsFragment): Promise<void>;
  /** How long the job may take to end after the last restart. */
  finishWithinMs?: number;
}): Promise<void> {
  const dataDir = await tempDir();
  const env = { ...options.env };
  let server = await startServerProcess(dataDir, env);
  let probe: WriteLockProbe | undefined;
  try {
    const jobId = await options.submitJob(server);
    for (const kill of options.kills) {
      const seen = await kill(server, jobId, () => (probe ??= openWriteLockProbe(dataDir)));
      server = await startServerProcess(dataDir, env);
      const { job } = await server.client.request(JobDocument, { id: jobId });
      for (const counter of ['processedRows', 'rowsWritten', 'rowsRejected'] as const) {
        expect(job!.progress[counter], counter).toBeGreaterThanOrEqual(seen.progress[counter]);
      }
      expect(job!.issueCounts.errors).toBeGreaterThanOrEqual(seen.issueCounts.errors);
    }
    await options.check(server, await waitForJob(server.client, jobId, undefined, options.finishWithinMs ?? 120_000));
  } finally {
    await server.kill('SIGKILL');
    probe?.close();
    await removeDataDir(dataDir);
  }
}

const peopleInput: IngestFileInput = { dataset: 'people', columns: PERSON_COLUMNS };

let peoplePath: string;
beforeAll(async () => {
  peoplePath = join(await tempDir(), 'people.csv');
  await writeGeneratedCsv(peoplePath, PERSON_HEADER, ROWS, people.line);
});
afterAll(async () => {
  if (peoplePath) await rm(dirname(peoplePath), { recursive: true, force: true });
});

const submitPeople = async (server: ServerProcess) => (await submit(server.client, peopleInput, peoplePath, 'people.csv')).id;

describe(`crash recovery of a ${ROWS}-row CSV with invalid rows`, () => {
  it('the generated file has invalid rows of every kind, from its start to its end', () => {
    expect(new Set(people.issues.map((issue) => issue.code))).toEqual(new Set(['TYPE_MISMATCH', 'UNIQUE', 'REQUIRED', 'MALFORMED_ROW']));
    expect(people.issues.length).toBeGreaterThan(1000);
    expect(people.issues[0].row).toBe(2);
    expect(people.issues.slice(-3).map((issue) => issue.row)).toEqual([ROWS - 2, ROWS - 1, ROWS]);
  });

  it('killed with the upload spooled and its job not yet started: the job runs after restart, once', async () => {
    let blockerId = '';
    await ingestThroughCrashes({
      // One job at a time, and another dataset's job holding it: the job under test stays PENDING.
      env: { SLUICE_MAX_CONCURRENT_JOBS: '1' },
      finishWithinMs: ON_POSTGRES ? 300_000 : 120_000,
      async submitJob(server) {
        blockerId = (await submit(server.client, { ...peopleInput, dataset: 'blocker' }, peoplePath, 'blocker.csv')).id;
        await waitForJob(server.client, blockerId, (job) => job.status === 'RUNNING');
        return submitPeople(server);
      },
      kills: [
        async (server, jobId) => {
          const { job } = await server.client.request(JobDocument, { id: jobId });
          const { job: blocker } = await server.client.request(JobDocument, { id: blockerId });
          await server.kill('SIGKILL');
          expect(job).toMatchObject({ status: 'PENDING', stage: 'queued', attempts: 0 });
          expect(blocker!.status).toBe('RUNNING');
          return job!;
        },
      ],
      async check(server, job) {
        await expectExactIngest(server.client, job, people, 1);
        // The blocker was killed while RUNNING: it resumed too, and its counters are exact.
        const blocker = await waitForJob(server.client, blockerId);
        expect(blocker).toMatchObject({ status: 'COMPLETED', attempts: 2, dataset: { name: 'blocker', rowCount: people.validIds.length } });
        expect(blocker.progress).toMatchObject({ processedRows: ROWS, rowsWritten: people.validIds.length, rowsRejected: people.issues.length });
        expect(blocker.issueCounts).toEqual({ errors: people.issues.length, warnings: 0 });
      },
    });
  }, ON_POSTGRES ? 400_000 : 150_000); // two 500,000-row files one after the other: PostgreSQL ingests them several times slower here

  it('killed once its job was claimed, before its first checkpoint: the next attempt starts from a clean slate', async () => {
    await ingestThroughCrashes({
      submitJob: submitPeople,
      // The worker takes a few hundred milliseconds to start and check the upload: the job is seen RUNNING before any row.
      kills: [whenProcessed(0, 1)],
      check: (server, job) => expectExactIngest(server.client, job, people, 2),
    });
  }, 120_000);

  it('killed early in parsing: resumes from the first checkpoint', async () => {
    await ingestThroughCrashes({
      submitJob: submitPeople,
      kills: [whenProcessed(1, ROWS / 10)],
      check: (server, job) => expectExactIngest(server.client, job, people, 2),
    });
  }, 120_000);

  // Caught inside a batch's write transaction by SQLite's write-lock probe; on PostgreSQL the kills mid-file roll back an open batch too.
  it.skipIf(ON_POSTGRES)('killed inside the write transaction of a batch: the batch is rolled back and written once by the next attempt', async () => {
    await ingestThroughCrashes({
      // Large batches committed only when full: each write transaction is long enough to be caught open.
      env: { SLUICE_BATCH_ROWS: '25000', SLUICE_PROGRESS_INTERVAL_MS: '60000' },
      submitJob: submitPeople,
      kills: [insideWriteTransaction(ROWS * 0.4)],
      check: (server, job) => expectExactIngest(server.client, job, people, 2),
    });
  }, 120_000);

  it('killed just before completion: resumes for the last rows only', async () => {
    await ingestThroughCrashes({
      submitJob: submitPeople,
      kills: [whenProcessed(ROWS * 0.9)],
      check: (server, job) => expectExactIngest(server.client, job, people, 2),
    });
  }, 120_000);

  // Caught inside a batch's write transaction by SQLite's write-lock probe; on PostgreSQL the kills mid-file roll back an open batch too.
  it.skipIf(ON_POSTGRES)('killed twice, mid-file inside a write and near the end: completes on its third attempt, every row once', async () => {
    await ingestThroughCrashes({
      submitJob: submitPeople,
      kills: [insideWriteTransaction(ROWS * 0.3), whenProcessed(ROWS * 0.95)],
      check: (server, job) => expectExactIngest(server.client, job, people, 3),
    });
  }, 150_000);

  it('killed four times, each attempt advancing the checkpoint: completes on its fifth attempt (progress is not a crash of the job), every row once', async () => {
    await ingestThroughCrashes({
      submitJob: submitPeople,
      kills: [whenProcessed(ROWS * 0.2), whenProcessed(ROWS * 0.4), whenProcessed(ROWS * 0.6), whenProcessed(ROWS * 0.8)],
      check: (server, job) => expectExactIngest(server.client, job, people, 5),
    });
  }, 240_000);

  it('interrupted on SLUICE_MAX_ATTEMPTS attempts in a row that make no progress: FAILED with INTERRUPTED, none of its rows visible', async () => {
    await ingestThroughCrashes({
      env: { SLUICE_MAX_ATTEMPTS: '2' },
      submitJob: submitPeople,
      // The first attempt advances; the next two are killed before their first checkpoint.
      kills: [whenProcessed(ROWS * 0.1), claimedAgain, claimedAgain],
      async check(server, job) {
        expect(job).toMatchObject({ status: 'FAILED', attempts: 3, error: { code: 'INTERRUPTED' }, result: null, dataset: { rowCount: 0 } });
        expect(job.error!.message).toContain('2 times in a row without progress');
        let visible = 0;
        await forEachRowPage(server.client, 'people', (rows) => (visible += rows.length));
        expect(visible).toBe(0);
      },
    });
  }, 150_000);
});

describe('a job across attempts', () => {
  it('keeps its first start, rates only the running attempt, spans every attempt in its duration, and announces job.started once', async () => {
    const dataDir = await tempDir();
    const env = { SLUICE_WEBHOOK_ALLOW_PRIVATE: 'true' };
    const receiver = await startReceiver();
    let server = await startServerProcess(dataDir, env);
    try {
      const { registerWebhook } = await server.client.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.started', 'job.completed'] });
      expect(registerWebhook.userErrors).toEqual([]);
      const id = await submitPeople(server);
      const seen = await whenProcessed(ROWS * 0.5)(server, id, () => {
        throw new Error('no write lock probe here');
      });
      const restartedAt = Date.now();
      server = await startServerProcess(dataDir, env);
      const resumed = await waitForJob(server.client, id, (j) => TERMINAL.has(j.status) || (j.status === 'RUNNING' && j.progress.processedRows > seen.progress.processedRows));
      const sinceRestart = (Date.now() - restartedAt) / 1000;
      expect(resumed).toMatchObject({ status: 'RUNNING', attempts: 2, startedAt: seen.startedAt });
      // The new attempt has done a few batches: a rate counting every row of the job since the resume would be far higher.
      expect(resumed.progress.rowsPerSecond).toBeLessThan((0.5 * resumed.progress.processedRows) / sinceRestart);

      const job = await waitForJob(server.client, id, undefined, 120_000);
      expect(job).toMatchObject({ status: 'COMPLETED', startedAt: seen.startedAt });
      expect(job.result!.durationMs).toBe(Date.parse(job.completedAt!) - Date.parse(seen.startedAt!));
      const deliveries = (await server.client.request(JobWebhookDeliveriesDocument, { id })).job!.webhookDeliveries;
      expect(deliveries.map((delivery) => delivery.event).sort()).toEqual(['job.completed', 'job.started']);
    } finally {
      await server.kill('SIGKILL');
      await receiver.close();
      await removeDataDir(dataDir);
    }
  }, 150_000);
});

// Lines before the header (skipRows) are not records: a resumed attempt must find the same rows at the same offsets.
describe('crash recovery of a file with lines before its header', () => {
  /** A title with an odd quote and a line with another delimiter, then the header. */
  const PREAMBLE = 'Export of "people\ngenerated;2024-01-31;by;report\n';

  for (const encoding of ['utf-8', 'windows-1252'] as const) {
    it(`CSV in ${encoding} with skipRows: killed mid-file, resumes at the same row`, async () => {
      const file = peopleFile(100_000, ACCENTED, ALL_FLAWS);
      const path = join(await tempDir(), 'people-preamble.csv');
      try {
        await writeEncodedCsv(path, `${PREAMBLE}${PERSON_HEADER}`, file.rows, file.line, encoding === 'utf-8' ? 'utf8' : 'latin1');
        const input = { ...peopleInput, skipRows: 2, csv: { encoding } };
        await ingestThroughCrashes({
          submitJob: async (server) => (await submit(server.client, input, path, 'people-preamble.csv')).id,
          kills: [whenProcessed(file.rows / 2)],
          check: (server, job) => expectExactIngest(server.client, job, file, 2),
        });
      } finally {
        await rm(dirname(path), { recursive: true, force: true });
      }
    }, 120_000);
  }
});

describe('crash recovery of files resumed by re-reading and skipping rows', () => {
  it('CSV in windows-1252: killed mid-file, resumes past the rows already handled', async () => {
    const file = peopleFile(100_000, ACCENTED, ALL_FLAWS);
    const path = join(await tempDir(), 'people-1252.csv');
    try {
      await writeEncodedCsv(path, PERSON_HEADER, file.rows, file.line, 'latin1');
      await ingestThroughCrashes({
        submitJob: async (server) => (await submit(server.client, { ...peopleInput, csv: { encoding: 'windows-1252' } }, path, 'people-1252.csv')).id,
        kills: [whenProcessed(file.rows / 2)],
        check: (server, job) => expectExactIngest(server.client, job, file, 2),
      });
    } finally {
      await rm(dirname(path), { recursive: true, force: true });
    }
  }, 120_000);

  it('XLSX: killed mid-sheet, resumes past the rows already handled', async () => {
    // A worksheet has no malformed records: only the flaws of values. Plain names: exceljs's streaming
    // reader garbles a multi-byte character split between two chunks, crash or not (exceljs#2084).
    const file = peopleFile(30_000, PLAIN, ['email', 'id', 'duplicate', 'blankName']);
    const path = join(await tempDir(), 'people.xlsx');
    try {
      await writeGeneratedXlsx(path, 'People', PERSON_HEADER.split(','), file.rows, (i) => spreadsheetCells(file.line(i)));
      await ingestThroughCrashes({
        submitJob: async (server) => (await submit(server.client, { ...peopleInput, format: 'XLSX' }, path, 'people.xlsx')).id,
        kills: [whenProcessed(file.rows / 2)],
        check: (server, job) => expectExactIngest(server.client, job, file, 2),
      });
    } finally {
      await rm(dirname(path), { recursive: true, force: true });
    }
  }, 120_000);
});

describe('crash recovery of an UPSERT', () => {
  const BASE = 60_000; // rows in the dataset before (ids 1 to BASE, as rows are numbered); every third one changes
  const ADDED = 30_000; // new keys, after them in the file
  const columns = [
    { name: 'id', type: 'INTEGER' as const },
    { name: 'name', type: 'STRING' as const },
    { name: 'score', type: 'DECIMAL' as const },
  ];
  const before = (i: number) => ({ id: i, name: `name${i}`, score: i });
  const after = (i: number) => (i > BASE ? { id: i, name: `new${i}`, score: i } : i % 3 === 0 ? { ...before(i), score: i + 0.5 } : before(i));
  const line = (row: (i: number) => { id: number; name: string; score: number }) => (i: number) => Object.values(row(i)).join(',');
  const updated = Math.floor(BASE / 3);

  /** Kills once half the file is processed, having seen (while the job still ran) that readers get the rows as they were. */
  const halfwaySeeingOldRows: KillPoint = async (server, jobId) => {
    const job = await waitForJob(server.client, jobId, (j) => TERMINAL.has(j.status) || (j.status === 'RUNNING' && j.progress.processedRows >= (BASE + ADDED) / 2));
    const { dataset } = await server.client.request(DatasetDocument, { name: 'upserted', first: 1000 });
    const { job: then } = await server.client.request(JobDocument, { id: jobId });
    await server.kill('SIGKILL');
    expect([job.status, then!.status]).toEqual(['RUNNING', 'RUNNING']);
    expect(dataset!.rowCount).toBe(BASE);
    expect(dataset!.rows.edges.map((edge) => edge.node.values)).toEqual(Array.from({ length: 1000 }, (_, i) => before(i + 1)));
    return job;
  };

  it('killed mid-file: readers see the old rows until COMPLETED, then every change at once, counted exactly', async () => {
    const dir = await tempDir();
    try {
      const [basePath, upsertPath] = [join(dir, 'base.csv'), join(dir, 'upsert.csv')];
      await writeGeneratedCsv(basePath, 'id,name,score', BASE, line(before));
      await writeGeneratedCsv(upsertPath, 'id,name,score', BASE + ADDED, line(after));
      await ingestThroughCrashes({
        submitJob: async (server) => {
          const base = await submit(server.client, { dataset: 'upserted', columns, key: ['id'] }, basePath, 'base.csv');
          expect(await waitForJob(server.client, base.id, undefined, 60_000)).toMatchObject({ status: 'COMPLETED' });
          return (await submit(server.client, { dataset: 'upserted', mode: 'UPSERT', key: ['id'] }, upsertPath, 'upsert.csv')).id;
        },
        kills: [halfwaySeeingOldRows],
        check: async (server, job) => {
          expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2 });
          expect(job.result).toMatchObject({ rowsWritten: BASE + ADDED, rowsRejected: 0, rowsInserted: ADDED, rowsUpdated: updated, rowsUnchanged: BASE - updated });
          const seen = new Map<number, unknown>();
          await forEachRowPage(server.client, 'upserted', (rows) => rows.forEach((row) => seen.set(row.values.id as number, row.values)));
          expect(seen.size).toBe(BASE + ADDED);
          const wrong = Array.from({ length: BASE + ADDED }, (_, i) => i + 1).filter((i) => JSON.stringify(seen.get(i)) !== JSON.stringify(after(i)));
          expect(wrong.slice(0, 5)).toEqual([]);
          expect(job.dataset.rowCount).toBe(BASE + ADDED);
        },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

/** The cells of a generated CSV line (only its name is quoted, and may be blank) as a spreadsheet types them. */
function spreadsheetCells(line: string): unknown[] {
  const [, id, quotedName, rest] = /^([^,]*),("[^"]*"|),(.*)$/.exec(line)!;
  const [email, amount, joined, active] = rest.split(',');
  return [/^\d+$/.test(id) ? Number(id) : id, quotedName.slice(1, -1) || null, email, Number(amount), joined, active === 'true'];
}
