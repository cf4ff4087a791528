import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetDocument, JobIssuesDocument, JobsDocument } from '../generated/graphql';
import { cliSuite, jobIdOf, peopleWithBadEmails } from '../helpers/cli';
import { PERSON_HEADER, personLine } from '../helpers/files';
import { jobCount } from '../helpers/queries';
import { smallDataset } from '../helpers/results';
import { waitForJob } from '../helpers/server';

// The `sluice` command line's exit codes and messages when something is wrong, and its commands
// that read jobs, checked against what the API answers. Ingest and --watch: cli.test.ts.

const suite = cliSuite();
const { sluice, apiJob } = suite;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('failures the command line reports', () => {
  it('a wrong or missing key, and a server that cannot be reached: exit 3 with what to fix', async () => {
    const wrong = await sluice(['jobs'], { key: 'sluice_000000000000_wrong' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^sluice: the server refused the API key .*check SLUICE_KEY or --key-file\n$/);
    const missing = await sluice(['jobs'], { key: null });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no API key given: set SLUICE_KEY or use --key-file');
    const port = await closedPort();
    const unreachable = await sluice(['ingest', suite.columnsFile, '--dataset', 'x', '--url', `http://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`sluice: cannot reach the server at http://127.0.0.1:${port}/graphql: connect ECONNREFUSED`);
  });

  it('reads the key from --key-file', async () => {
    const keyFile = join(suite.dir, 'key');
    await writeFile(keyFile, `${suite.server.apiKey}\n`, { mode: 0o600 });
    const result = await sluice(['jobs', '--key-file', keyFile, '--url', suite.server.url], { key: null });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ID +STATUS +DATASET +PERCENT +ROWS +REJECTED +CREATED$/m);
  });

  it('usage and input errors: exit 2, nothing created', async () => {
    const file = await suite.peopleFile('usage.csv', 3);
    const notArray = join(suite.dir, 'not-array.json');
    await writeFile(notArray, '{"name":"id"}');
    const invalidColumns = join(suite.dir, 'invalid-columns.json');
    await writeFile(invalidColumns, JSON.stringify([{ name: 'id', type: 'INTEGER', min: 5, max: 1 }]));
    const cases: Array<[string[], RegExp]> = [
      [['ingest', file], /required option '--dataset <name>' not specified/],
      [['ingest', file, '--dataset', 'cli-usage', '--max-errors', '-1'], /'--max-errors <n>' argument '-1' is invalid/],
      [['ingest', file, '--dataset', 'cli-usage', '--mode', 'MERGE'], /Allowed choices are APPEND, REPLACE/],
      [['ingest', file, '--dataset', 'cli-usage', '--skip-rows', 'two'], /'--skip-rows <n>' argument 'two' is invalid/],
      [['ingest', join(suite.dir, 'missing.csv'), '--dataset', 'cli-usage'], /sluice: cannot read .*missing\.csv: ENOENT/],
      [['ingest', file, '--dataset', 'cli-usage', '--columns', notArray], /expected a JSON array of column objects/],
      [['ingest', file, '--dataset', 'cli-usage', '--columns', invalidColumns], /the server refused the upload:\n {2}INVALID_COLUMN \(input\.columns\.0\.min\): /],
      [['ingest', file, '--dataset', 'cli-usage', '--cancel-on-interrupt'], /--cancel-on-interrupt goes with --watch/],
      [['job', 'job_00000000-0000-0000-0000-000000000000'], /sluice: no job job_0{8}-.* in this workspace/],
      [['jobs', '--status', 'DONE'], /unknown status DONE/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [[], /Usage: sluice/],
    ];
    for (const [args, message] of cases) {
      const result = await sluice(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
    expect(await jobCount(suite.server.client, { dataset: 'cli-usage' })).toBe(0);
  });

  it('--help of each command exits 0 and names its options', async () => {
    for (const [command, option] of [['ingest', '--max-errors'], ['jobs', '--status'], ['job', '--json'], ['cancel', '--key-file'], ['issues', '--url'], ['rejects', '--url'], ['keys', 'revoke']]) {
      const result = await sluice([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(option);
    }
  });
});

describe('sluice ingest with reading options', () => {
  it('--skip-rows and repeated --null-value reach the job', async () => {
    const file = join(suite.dir, 'preamble.csv');
    await writeFile(file, 'Exported 2024-01-31\nid,score\n1,NA\n2,-\n3,7\n');
    const result = await sluice(['ingest', file, '--dataset', 'cli-reading', '--skip-rows', '1', '--null-value', 'NA', '--null-value', '-']);
    expect(result.code, result.stderr).toBe(0);
    const job = await waitForJob(suite.server.client, jobIdOf(result));
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 3, rowsRejected: 0 } });
    expect((await smallDataset(suite.server.client, 'cli-reading')).values).toEqual([
      { id: 1, score: null },
      { id: 2, score: null },
      { id: 3, score: 7 },
    ]);
  });
});

describe('sluice ingest --dry-run', () => {
  it('runs the job as a dry run, says so at its end and in `sluice job`, and writes nothing', async () => {
    const file = join(suite.dir, 'trial.csv');
    await writeFile(file, 'id,score\n1,5\n2,x\n');
    const columns = join(suite.dir, 'trial-columns.json');
    await writeFile(columns, JSON.stringify([{ name: 'id', type: 'INTEGER' }, { name: 'score', type: 'INTEGER' }]));
    const result = await sluice(['ingest', file, '--dataset', 'cli-trial', '--columns', columns, '--dry-run', '--watch']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('COMPLETED (dry run, nothing written): 1 row would be written to cli-trial, 1 rejected, in ');
    const id = jobIdOf(result);
    expect(await waitForJob(suite.server.client, id)).toMatchObject({ status: 'COMPLETED', dryRun: true, result: { rowsWritten: 1, rowsRejected: 1 } });
    const detail = await sluice(['job', id]);
    expect(detail.stdout).toMatch(/dataset\s+cli-trial \(dry run: nothing is written to it\)/);
    expect(await jobCount(suite.server.client, { dataset: 'cli-trial' })).toBe(1);
    expect((await suite.server.client.request(DatasetDocument, { name: 'cli-trial', first: 1 })).dataset).toBeNull();
  });
});

describe('sluice ingest --mode UPSERT --key', () => {
  it('upserts by the key and ends with what it inserted, updated and left unchanged', async () => {
    const columns = join(suite.dir, 'keyed-columns.json');
    await writeFile(columns, JSON.stringify([{ name: 'id', type: 'INTEGER' }, { name: 'score', type: 'INTEGER' }]));
    const first = join(suite.dir, 'keyed.csv');
    await writeFile(first, 'id,score\n1,5\n2,6\n');
    expect((await sluice(['ingest', first, '--dataset', 'cli-keyed', '--columns', columns, '--key', 'id', '--watch'])).code).toBe(0);
    const changes = join(suite.dir, 'changes.csv');
    await writeFile(changes, 'id,score\n1,5\n2,7\n3,8\n');
    const result = await sluice(['ingest', changes, '--dataset', 'cli-keyed', '--mode', 'UPSERT', '--key', 'id', '--watch']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('COMPLETED: 3 rows written to cli-keyed, 1 row inserted, 1 updated, 1 unchanged, 0 rejected, in ');
    const refused = await sluice(['ingest', changes, '--dataset', 'cli-keyed', '--mode', 'UPSERT']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('KEY_REQUIRED (input.key): mode UPSERT needs a key');
  });
});

describe('sluice jobs, job, issues, rejects', () => {
  let clean: string;
  let rejected: string;
  const REJECTED = 1_500; // more issues than one page (1000)

  beforeAll(async () => {
    const ids: string[] = [];
    // Ids of the second file follow the first's: the dataset's ids are unique.
    for (const [name, line] of [['clean.csv', personLine], ['rejected.csv', peopleWithBadEmails((i) => i % 2 === 1, 3_001)]] as const) {
      const file = await suite.peopleFile(name, 3_000, line);
      const result = await sluice(['ingest', file, '--dataset', 'cli-list', '--columns', suite.columnsFile]);
      ids.push(jobIdOf(result));
      await waitForJob(suite.server.client, ids.at(-1)!);
    }
    [clean, rejected] = ids;
  });

  it('jobs lists what the API lists, newest first, with its filters', async () => {
    const result = await sluice(['jobs', '--dataset', 'cli-list']);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...lines] = result.stdout.trimEnd().split('\n');
    expect(header.split(/ +/)).toEqual(['ID', 'STATUS', 'DATASET', 'PERCENT', 'ROWS', 'REJECTED', 'CREATED']);
    const { jobs } = await suite.server.client.request(JobsDocument, { dataset: 'cli-list' });
    expect(lines.map((line) => line.split(/ +/).slice(0, 3))).toEqual(jobs.edges.map(({ node }) => [node.id, node.status, 'cli-list']));
    expect(lines.map((line) => line.split(/ +/)[0])).toEqual([rejected, clean]);
    expect(lines[0].split(/ +/).slice(3, 6)).toEqual(['100.0%', '3000', String(REJECTED)]);

    const limited = await sluice(['jobs', '--dataset', 'cli-list', '--limit', '1']);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(2);
    const none = await sluice(['jobs', '--dataset', 'cli-list', '--status', 'failed,cancelled']);
    expect(none.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('job --json prints the job as the API has it; job prints it for people', async () => {
    const api = await apiJob(rejected);
    const json = await sluice(['job', rejected, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const printed = JSON.parse(json.stdout);
    for (const field of ['id', 'status', 'stage', 'sequence', 'attempts', 'createdAt', 'completedAt', 'dataset', 'file', 'issueCounts', 'result', 'error', 'messages'] as const) {
      expect(printed[field], field).toEqual(field === 'dataset' ? { name: api.dataset.name } : api[field]);
    }
    expect(printed.progress).toMatchObject({ ...api.progress, rowsPerSecond: expect.any(Number) });

    const human = await sluice(['job', rejected]);
    expect(human.stdout).toMatch(/^status +COMPLETED \(done\)$/m);
    expect(human.stdout).toMatch(new RegExp(`^issues +${REJECTED} errors, 0 warnings \\(sluice issues ${rejected}\\)$`, 'm'));
    expect(human.stdout).toMatch(/^file +rejected\.csv, CSV, \d+\.\d kB$/m);
  });

  it('issues lists every issue, over several pages, as the API has them', async () => {
    const result = await sluice(['issues', rejected]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...lines] = result.stdout.trimEnd().split('\n');
    expect(header.split(/ +/)).toEqual(['ROW', 'COLUMN', 'CODE', 'MESSAGE', 'VALUE']);
    const api: Array<{ row: number | null; code: string; value: string | null }> = [];
    for (let after: string | null | undefined; ; ) {
      const { job } = await suite.server.client.request(JobIssuesDocument, { id: rejected, first: 1000, after });
      api.push(...job!.issues.edges.map((edge) => edge.node));
      if (!job!.issues.pageInfo.hasNextPage) break;
      after = job!.issues.pageInfo.endCursor;
    }
    expect(api).toHaveLength(REJECTED);
    expect(lines.map((line) => line.split(/ +/)[0])).toEqual(api.map((issue) => String(issue.row)));
    expect(lines[0]).toMatch(/^1 +email +TYPE_MISMATCH +.* "person3001"$/);
  });

  it('rejects streams the rejected rows as CSV; a job without any says so', async () => {
    const result = await sluice(['rejects', rejected]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`_row,_errors,${PERSON_HEADER}`);
    expect(lines).toHaveLength(REJECTED + 1);
    expect(lines[1]).toMatch(/^1,.*,3001,"Person 3001, Jr\.",person3001,3751\.25,/);

    const none = await sluice(['rejects', clean]);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toBe(`sluice: job ${clean} has no rejected rows\n`);
  });
});
