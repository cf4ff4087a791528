import { rm, stat } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { CancelJobDocument, JobUpdatesDocument } from '../generated/graphql';
import { cliSuite, jobIdOf, PEAK_RSS_PRELOAD, peopleWithBadEmails, sluiceClient, startSluiceClient } from '../helpers/cli';
import { expectedPerson } from '../helpers/files';
import { allRows } from '../helpers/queries';
import { openSubscriptions, startServer, until, waitForJob } from '../helpers/server';
import { SubscriptionClient } from '../helpers/subscribe';

// The real `sluice` command line (dist/cli.mjs, its own process) uploading to a real server and
// following the job, its key in SLUICE_KEY and the server in SLUICE_URL, as a person or a script
// would run it. Its other commands and its failures: cli-commands.test.ts.

/** A progress line off a terminal, once the job has read something. */
const PROGRESS_UNDER_WAY = /^([1-9]\d*\.\d|0\.[1-9])%  \d+ rows/m;
/** Rows of the file jobs are interrupted in: several seconds of work, so that a Ctrl-C finds it running. */
const LONG_ROWS = 400_000;

const suite = cliSuite();
const { sluice, apiJob } = suite;
let longFile: string;

beforeAll(async () => {
  longFile = await suite.peopleFile('long.csv', LONG_ROWS);
});

describe('sluice ingest', () => {
  it('prints the job id alone on stdout; the job completes with every row visible', async () => {
    const file = await suite.peopleFile('small.csv', 120);
    const result = await sluice(['ingest', file, '--dataset', 'cli-small', '--columns', suite.columnsFile]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^job_\S+\n$/);
    const job = await waitForJob(suite.server.client, jobIdOf(result));
    expect(job).toMatchObject({ status: 'COMPLETED', file: { name: 'small.csv' }, progress: { rowsWritten: 120 } });
    const rows = await allRows(suite.server.client, 'cli-small');
    expect(rows.map((row) => row.values)).toEqual(Array.from({ length: 120 }, (_, i) => expectedPerson(i + 1)));
  });

  it('--watch off a terminal: percentage lines, at most about one a second, the last one COMPLETED; exit 0', async () => {
    const file = await suite.peopleFile('watch.csv', 100_000);
    const run = startSluiceClient(suite.server, ['ingest', file, '--dataset', 'cli-watch', '--watch']);
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(0);
    const progress = run.lines.filter((line) => /^\d+\.\d%  /.test(line.text));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    // One line a second at most, and the last: a second of slack for lines that reach the test late.
    expect(progress.length).toBeLessThanOrEqual(Math.floor((progress.at(-1)!.at - progress[0].at) / 1000) + 3);
    expect(progress.at(-1)!.text).toMatch(/^100\.0%  100000 rows  0 rejected  \d+ rows\/s  ETA \S+  COMPLETED \(done\)$/);
    expect(result.stdout).toMatch(/^COMPLETED: 100000 rows written to cli-watch, 0 rejected, in \S+$/m);
    expect((await apiJob(jobIdOf(result))).status).toBe('COMPLETED');
  });

  it('--watch with bad rows and --max-errors 0: FAILED with the job error and its first issues; exit 1', async () => {
    const file = await suite.peopleFile('bad.csv', 10, peopleWithBadEmails((i) => i === 4));
    const result = await sluice(['ingest', file, '--dataset', 'cli-bad', '--columns', suite.columnsFile, '--max-errors', '0', '--watch']);
    expect(result.code).toBe(1);
    const job = await apiJob(jobIdOf(result));
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'TOO_MANY_ERRORS' } });
    expect(result.stdout).toContain(`FAILED: TOO_MANY_ERRORS: ${job.error!.message}\n`);
    expect(result.stdout).toMatch(/^issues: 1 error, 0 warnings$/m);
    expect(result.stdout).toMatch(/^4 +email +TYPE_MISMATCH +.* "person4"$/m);
  });

  it('--watch on a terminal draws a bar with percent, rows, rows/s, ETA and rejected rows', async () => {
    // script's terminal has no size: the command line takes it as 80 columns, which leave 16 for the bar.
    const file = await suite.peopleFile('tty.csv', 100_000);
    const run = startSluiceClient(suite.server, ['ingest', file, '--dataset', 'cli-tty', '--watch'], { terminal: true });
    const result = await run.exited;
    run.child.stdin!.end();
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/[█░]{16} \d+\.\d%  \d+ rows  \d+ rows\/s  ETA \d\S*  0 rejected  parsing/);
    expect(result.stdout).toMatch(/█{16} 100\.0%  100000 rows  \d+ rows\/s  ETA \S+  0 rejected  done/);
    expect(result.stdout).toMatch(/COMPLETED: 100000 rows written to cli-tty/);
    // The cursor, hidden while the bar is drawn, is shown again.
    expect(result.stdout.lastIndexOf('\x1b[?25h')).toBeGreaterThan(result.stdout.lastIndexOf('\x1b[?25l'));
  });

  it('falls back to polling job(id) when the WebSocket is refused', async () => {
    const limited = await startServer({ maxConnectionsPerKey: 1 });
    const holder = new SubscriptionClient(limited.url, 'ws', limited.apiKey);
    try {
      holder.subscribe(JobUpdatesDocument, {});
      await until(() => openSubscriptions(limited), (open) => open > 0, 'the connection that takes the only slot');
      const file = await suite.peopleFile('poll.csv', 50);
      const result = await sluiceClient(limited, ['ingest', file, '--dataset', 'cli-poll', '--watch']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/live updates unavailable \(the WebSocket closed with 4429 .*\); polling the job every second/);
      expect(result.stdout).toMatch(/^100\.0%  50 rows  0 rejected .* COMPLETED \(done\)$/m);
      expect(result.stdout).toMatch(/^COMPLETED: 50 rows written to cli-poll/m);
    } finally {
      await holder.dispose();
      await limited.stop();
    }
  });
});

describe('Ctrl-C while watching', () => {
  it('--cancel-on-interrupt cancels the job at once and waits for its end: CANCELLED, exit 1', async () => {
    const run = startSluiceClient(suite.server, ['ingest', longFile, '--dataset', 'cli-interrupt', '--watch', '--cancel-on-interrupt']);
    await run.waitFor(PROGRESS_UNDER_WAY);
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(result.code, result.stderr).toBe(1);
    const job = await apiJob(jobIdOf(result));
    expect(job).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(job.progress.processedRows).toBeLessThan(LONG_ROWS);
    expect(result.stderr).toContain(`cancelling ${job.id}`);
    expect(result.stdout).toMatch(/CANCELLED \(cancelled\)\n/);
    expect(result.stdout).toContain(`CANCELLED: ${job.error!.message}\n`);
  });

  it('without the flag and without a terminal to ask on, stops watching and leaves the job running (exit 130); sluice cancel then cancels it', async () => {
    const run = startSluiceClient(suite.server, ['ingest', longFile, '--dataset', 'cli-detach', '--watch']);
    await run.waitFor(PROGRESS_UNDER_WAY);
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(result.code).toBe(130);
    const id = jobIdOf(result);
    expect(result.stderr).toContain(`sluice: stopped watching ${id}: it goes on; follow it with "sluice job ${id} --watch"`);
    expect((await apiJob(id)).status).toBe('RUNNING');

    const cancelled = await sluice(['cancel', id]);
    expect(cancelled).toMatchObject({ code: 0, stdout: `${id} CANCELLED\n` });
    expect((await apiJob(id)).status).toBe('CANCELLED');
    const again = await sluice(['cancel', id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`sluice: job ${id} was not cancelled: the job is already CANCELLED`);
  });

  it('on a terminal asks first; answering y cancels the job: CANCELLED, exit 1', async () => {
    const run = startSluiceClient(suite.server, ['ingest', longFile, '--dataset', 'cli-ask', '--watch'], { terminal: true });
    await run.waitFor(/ ([1-9]\d*\.\d|0\.[1-9])%  \d+ rows/);
    run.write('\x03'); // Ctrl-C, typed: the terminal sends SIGINT
    await run.waitFor(/Cancel job job_\S+\? \[y\/N\]/);
    run.write('y\r');
    const result = await run.exited;
    run.child.stdin!.end();
    expect(result.code, result.stdout).toBe(1);
    const id = /^(job_\S+)\r?$/m.exec(result.stdout)![1];
    expect((await apiJob(id)).status).toBe('CANCELLED');
    expect(result.stdout).toMatch(/CANCELLED: /);
  });
});

describe('the upload', () => {
  it('is streamed from disk: the peak RSS of a ~200 MB upload stays far under the file size, near that of a tiny one', async () => {
    const large = await suite.peopleFile('large.csv', 2_600_000);
    const size = (await stat(large)).size;
    const tiny = await suite.peopleFile('tiny.csv', 2);
    const peak = async (file: string, dataset: string) => {
      const result = await sluice(['ingest', file, '--dataset', dataset], { nodeArgs: ['--import', PEAK_RSS_PRELOAD] });
      expect(result.code, result.stderr).toBe(0);
      await suite.server.client.request(CancelJobDocument, { id: jobIdOf(result) }); // only the upload is measured
      return Number(/^peak-rss-kb (\d+)$/m.exec(result.stderr)![1]) * 1024;
    };
    try {
      const [tinyPeak, largePeak] = [await peak(tiny, 'cli-rss-tiny'), await peak(large, 'cli-rss-large')];
      console.log(`CLI peak RSS: ${(largePeak / 2 ** 20).toFixed(0)} MiB uploading ${(size / 2 ** 20).toFixed(0)} MiB, ${(tinyPeak / 2 ** 20).toFixed(0)} MiB uploading 2 rows`);
      expect(size).toBeGreaterThan(190 * 2 ** 20);
      expect(largePeak).toBeLessThan((2 / 3) * size);
      // What a large upload adds is garbage waiting for V8's young generation (up to 3 semispaces of 16 MiB), whatever the file's size.
      expect(largePeak - tinyPeak).toBeLessThan(64 * 2 ** 20);
    } finally {
      await rm(large, { force: true });
    }
  });
});
