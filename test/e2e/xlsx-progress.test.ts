import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobDocument, type JobFieldsFragment } from '../generated/graphql';
import { writeGeneratedXlsx } from '../helpers/crash';
import { PERSON_COLUMNS, PERSON_HEADER, tempDir, writeWorkbook } from '../helpers/files';
import { submit } from '../helpers/queries';
import { startServer, TERMINAL, type TestServer, until } from '../helpers/server';

/** Enough rows for a job that is polled many times while it runs, even on a fast machine. */
const STREAMED_ROWS = 100_000;
/** exceljs's in-memory writer holds every cell: fewer rows, still many polls. */
const DIMENSIONED_ROWS = 60_000;
/** How far percent may run ahead of the rows committed: the reader thread parses a few bursts ahead. */
const READ_AHEAD_POINTS = 10;

function personCells(i: number): unknown[] {
  return [i, `Person ${i}, Jr.`, `person${i}@example.com`, i * 1.25, `2024-0${(i % 9) + 1}-1${i % 10}`, i % 2 === 0];
}

let server: TestServer;
const files: string[] = [];
beforeAll(async () => {
  // Small batches: progress is committed often, so polls see it move.
  server = await startServer({ batchRows: 500, progressIntervalMs: 50 });
});
afterAll(async () => {
  await server?.stop();
  await Promise.all(files.map((path) => rm(dirname(path), { recursive: true, force: true })));
});

/** A polled state of the job, with the client's clock around the request (for the ETA's elapsed time). */
interface Sample {
  job: JobFieldsFragment;
  sentAt: number;
  answeredAt: number;
}

/** Polls the job until it ends, keeping every answer. */
async function pollToEnd(id: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  await until(
    async () => {
      const sentAt = Date.now();
      const { job } = await server.client.request(JobDocument, { id });
      samples.push({ job: job as JobFieldsFragment, sentAt, answeredAt: Date.now() });
      return job!;
    },
    (job) => TERMINAL.has(job.status),
    `job ${id}`,
    180_000,
  );
  return samples;
}

/** The share of the job still to do that its ETA implies, at the earliest and latest moment the answer can be from. */
function remainingByEta({ job, sentAt, answeredAt }: Sample): [number, number] {
  const eta = job.progress.etaSeconds!;
  const elapsed = (at: number) => (at - Date.parse(job.startedAt!)) / 1000;
  return [eta / (elapsed(answeredAt) + eta), eta / (Math.max(0, elapsed(sentAt)) + eta)];
}

function expectProgressFollowsRows(samples: Sample[], rows: number): void {
  const ended = samples.at(-1)!.job;
  expect(ended.status).toBe('COMPLETED');
  expect(ended.progress).toMatchObject({ percent: 100, processedRows: rows, totalRows: rows, etaSeconds: 0 });

  const running = samples.filter(({ job }) => job.status === 'RUNNING' && job.progress.processedRows > 0);
  expect(running.length).toBeGreaterThanOrEqual(3);
  expect(running[0].job.progress.percent).toBeLessThan(50);
  expect(running.at(-1)!.job.progress.percent).toBeGreaterThan(running[0].job.progress.percent);
  for (const [i, { job }] of samples.entries()) {
    if (i > 0) expect(job.progress.percent).toBeGreaterThanOrEqual(samples[i - 1].job.progress.percent);
    if (job.status !== 'COMPLETED') expect(job.progress.percent).toBeLessThanOrEqual(99.9);
  }
  for (const sample of running) {
    const { percent, processedRows, etaSeconds } = sample.job.progress;
    const byRows = (100 * processedRows) / rows;
    expect(percent, `percent at ${processedRows} rows`).toBeGreaterThanOrEqual(byRows - 1);
    expect(percent, `percent at ${processedRows} rows`).toBeLessThanOrEqual(byRows + READ_AHEAD_POINTS);
    if (etaSeconds === null) continue;
    // The ETA tells the same story as percent: the share left is the share of the time left.
    const [low, high] = remainingByEta(sample);
    expect(1 - percent / 100, `remaining share at ${percent} %, eta ${etaSeconds} s`).toBeGreaterThanOrEqual(low - 0.15);
    expect(1 - percent / 100, `remaining share at ${percent} %, eta ${etaSeconds} s`).toBeLessThanOrEqual(high + 0.15);
  }
}

describe('XLSX progress', () => {
  it("follows the sheet's rows when the shared strings and styles come after the sheet (exceljs's streaming writer)", async () => {
    const path = join(await tempDir(), 'streamed.xlsx');
    files.push(path);
    await writeGeneratedXlsx(path, 'People', PERSON_HEADER.split(','), STREAMED_ROWS, personCells, true);
    const accepted = await submit(server.client, { dataset: 'streamed', columns: PERSON_COLUMNS }, path);
    expectProgressFollowsRows(await pollToEnd(accepted.id), STREAMED_ROWS);
  });

  it("follows the sheet's rows in a workbook whose sheet declares its <dimension ref> (exceljs's in-memory writer)", async () => {
    const rows = [PERSON_HEADER.split(','), ...Array.from({ length: DIMENSIONED_ROWS }, (_, i) => personCells(i + 1))];
    const path = await writeWorkbook('dimensioned.xlsx', { People: rows });
    files.push(path);
    const accepted = await submit(server.client, { dataset: 'dimensioned', columns: PERSON_COLUMNS }, path);
    expectProgressFollowsRows(await pollToEnd(accepted.id), DIMENSIONED_ROWS);
  });
});
