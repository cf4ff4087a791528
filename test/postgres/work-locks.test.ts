import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WORK_LOCK_KEY, WORK_LOCK_SPACE } from '../../src/engines/postgres/database';
import type { Engine } from '../../src/ports/engine';
import { ENGINES, type OpenedEngine } from '../contract/engines';
import { createJob } from '../contract/fixtures';
import { claimAt, codes, commitRows, completeJob, endJob, settledSink, T0 } from '../contract/sink-helpers';
import { TEST_DATABASE_URL } from '../helpers/postgres';

/** Runs `work` while another connection (another instance, say) holds the deployment's lock of `what`. */
async function whileHeldElsewhere(engine: Engine, what: 'purge' | 'retention', work: () => Promise<void>): Promise<void> {
  const schema = (engine.workerSpec as unknown as { location: { schema: string } }).location.schema;
  const other = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query(`SELECT pg_advisory_xact_lock(${WORK_LOCK_SPACE}, ${WORK_LOCK_KEY})`, [what]);
    await work();
  } finally {
    await other.query('ROLLBACK');
    await other.end();
  }
}

describe('PostgreSQL: purging and retention run on one instance of a deployment at a time', () => {
  let opened: OpenedEngine;
  let engine: Engine;
  beforeEach(async () => {
    opened = await ENGINES.find((spec) => spec.name === 'postgres')!.open();
    engine = opened.engine;
  });
  afterEach(() => opened.close());

  it('a purge step skips, without waiting, while another instance purges; then it purges', async () => {
    const failed = await claimAt(engine, T0, await createJob(engine, 'people'));
    await commitRows(await settledSink(opened, failed), codes('f1', 'f2'), 2);
    await endJob(engine, failed, 'FAILED');
    await whileHeldElsewhere(engine, 'purge', async () => expect(await engine.datasets.purgeStep(100)).toBe(0));
    expect(await engine.datasets.purgeStep(100)).toBe(2);
  });

  it('deleting expired jobs skips, without waiting, while another instance deletes them; then it deletes', async () => {
    const done = await completeJob(engine, await claimAt(engine, T0, await createJob(engine, 'people')), T0 + 1);
    await whileHeldElsewhere(engine, 'retention', async () => expect(await engine.jobs.deleteEnded(T0 + 10, 10)).toEqual([]));
    expect(await engine.jobs.deleteEnded(T0 + 10, 10)).toEqual([done.upload]);
  });
});
