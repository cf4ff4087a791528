import Database from 'better-sqlite3';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { openWorkerEngine } from '../../src/engines';
import { runIngest } from '../../src/ingest/pipeline';
import { ingestTask } from '../../src/jobs/ingest-task';
import type { Job } from '../../src/jobs/model';
import { createLogger } from '../../src/log';
import type { WorkerEngine } from '../../src/ports/engine';
import { LeaseLostError } from '../../src/ports/errors';
import type { RowSink } from '../../src/ports/row-sink';
import { tempDir, writeText } from '../helpers/files';

// The pipeline run directly on a real database, as a worker runs it, by an attempt whose lease is
// taken from it at chosen points: nothing it writes after that may land.

let dir: string;
let app: App;
let worker: WorkerEngine;

beforeEach(async () => {
  dir = await tempDir();
  app = buildApp(loadConfig({}, { dataDir: dir, logLevel: 'silent' }), createLogger('silent'));
  worker = openWorkerEngine(app.engine.workerSpec);
});
afterEach(async () => {
  await worker.close();
  await app.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A job submitted as the API does, claimed by this test as a runner would. */
async function claimedJob(dataset: string, csv: string): Promise<Job> {
  const path = await writeText(`${dataset}.csv`, csv);
  const upload = await app.engine.blobs.stage(createReadStream(path), `${dataset}.csv`);
  const submission = await app.services.submission.submit('default', { file: upload, dataset, columns: [{ name: 'code', type: 'STRING', unique: true }, { name: 'n', type: 'INTEGER' }] });
  expect(submission.userErrors).toEqual([]);
  return (await app.services.registry.claimNext('test-runner', 60_000))!;
}

/** The attempt's sink, as its worker opens it; `afterCommit` runs after each of its commits. */
async function sinkOf(job: Job, afterCommit: (commits: number) => Promise<void> = async () => {}): Promise<RowSink> {
  const sink = await worker.openSink({ jobNum: job.num, datasetId: job.datasetId, leaseToken: job.lease!.token, leaseMs: 60_000 });
  let commits = 0;
  return {
    dataset: () => sink.dataset(),
    settle: (shape) => sink.settle(shape),
    prepareUnique: (columns, replace) => sink.prepareUnique(columns, replace),
    taken: (column, values) => sink.taken(column, values),
    prepareKey: (columns, visible) => sink.prepareKey(columns, visible),
    keyed: (keys) => sink.keyed(keys),
    commit: async (batch) => {
      await sink.commit(batch);
      await afterCommit(++commits);
    },
    close: () => sink.close(),
  };
}

const noControl = { committed: () => undefined, stopRequested: () => null };

function hiddenRanges(): unknown[] {
  const db = new Database(join(dir, 'sluice.db'), { readonly: true });
  try {
    return db.prepare('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges').all();
  } finally {
    db.close();
  }
}

async function run(job: Job, sink: RowSink) {
  const file = await app.engine.blobs.localFile(job.upload!);
  return runIngest(sink, ingestTask(job, file.path, app.config), noControl);
}

describe('an attempt that loses its lease before it settles its columns', () => {
  it('writes nothing: no hidden row range; the next job of the dataset is visible', async () => {
    const job = await claimedJob('fenced', 'code,n\na,1\nb,2\n');
    // Right after the attempt's first commit, another party ends the job (a cancel, a reaper).
    const cancelled = await sinkOf(job, async (commits) => {
      if (commits === 1) await app.services.registry.cancel((await app.services.registry.get(job.id))!);
    });
    await expect(run(job, cancelled)).rejects.toBeInstanceOf(LeaseLostError);
    expect(hiddenRanges()).toEqual([]);

    const next = await claimedJob('fenced', 'code,n\nc,3\n');
    await run(next, await sinkOf(next));
    expect((await app.services.registry.complete((await app.services.registry.get(next.id))!))?.status).toBe('COMPLETED');
    const dataset = (await app.services.datasets.get('default', 'fenced'))!;
    expect((await app.services.datasets.rows(dataset, 0, 10)).map((row) => row.values)).toEqual([{ code: 'c', n: 3 }]);
  });
});
