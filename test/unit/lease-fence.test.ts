import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { LeaseLostError } from '../../src/ingest/batch';
import { runIngest } from '../../src/ingest/pipeline';
import { ingestTask } from '../../src/jobs/ingest-task';
import type { Job } from '../../src/jobs/model';
import { createLogger } from '../../src/log';
import { type Db, openDatabase } from '../../src/storage/sqlite';
import { Spool } from '../../src/uploads/spool';
import { tempDir, writeText } from '../helpers/files';

// The pipeline run directly on a real database, as a worker runs it, by an attempt whose lease is
// taken from it at chosen points: nothing it writes after that may land.

let dir: string;
let app: App;
let db: Db;
let spool: Spool;

beforeEach(async () => {
  dir = await tempDir();
  app = buildApp(loadConfig({}, { dataDir: dir, logLevel: 'silent' }), createLogger('silent'));
  db = openDatabase(join(dir, 'sluice.db'), { busyTimeoutMs: 5000, migrate: false });
  spool = new Spool(join(dir, 'spool'));
  await spool.init(new Set());
});
afterEach(async () => {
  db.close();
  await app.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A job submitted as the API does, claimed by this test as a runner would. */
async function claimedJob(dataset: string, csv: string): Promise<Job> {
  const path = await writeText(`${dataset}.csv`, csv);
  const upload = await spool.receive(createReadStream(path), `${dataset}.csv`);
  const submission = await app.services.submission.submit('default', { file: upload, dataset, columns: [{ name: 'code', type: 'STRING', unique: true }, { name: 'n', type: 'INTEGER' }] });
  expect(submission.userErrors).toEqual([]);
  return app.services.registry.claimNext('test-runner', 60_000)!;
}

const hiddenRanges = () => db.prepare('SELECT job_num, from_row, to_row FROM dataset_hidden_ranges').all();

describe('an attempt that loses its lease before it settles its columns', () => {
  it('writes nothing: no hidden row range; the next job of the dataset is visible', async () => {
    const job = await claimedJob('fenced', 'code,n\na,1\nb,2\n');
    let commits = 0;
    const control = {
      // Right after the attempt's first commit, another party ends the job (a cancel, a reaper).
      committed: () => {
        if (commits++ === 0) app.services.registry.cancel(app.services.registry.get(job.id)!);
      },
      stopRequested: () => null,
    };
    await expect(runIngest(db, ingestTask(job, app.config), control)).rejects.toBeInstanceOf(LeaseLostError);
    expect(hiddenRanges()).toEqual([]);

    const next = await claimedJob('fenced', 'code,n\nc,3\n');
    await runIngest(db, ingestTask(next, app.config), { committed: () => undefined, stopRequested: () => null });
    expect(app.services.registry.complete(app.services.registry.get(next.id)!)?.status).toBe('COMPLETED');
    const dataset = app.services.datasets.get('default', 'fenced')!;
    expect(app.services.datasets.rows(dataset, 0, 10).map((row) => row.values)).toEqual([{ code: 'c', n: 3 }]);
  });
});
