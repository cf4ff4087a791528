import { describe, expect, it } from 'vitest';
import type { CellValue } from '../../src/datasets/column-types';
import type { DatasetColumn } from '../../src/datasets/columns';
import { IngestError } from '../../src/ingest/ingest-error';
import type { Job } from '../../src/jobs/model';
import type { Engine } from '../../src/ports/engine';
import { ENGINES, type OpenedEngine, openForEachTest } from './engines';
import { createJob, jobOptions, WORKSPACE } from './fixtures';
import { checkpoint, claimAt, commitRows, completeJob, endJob, ingest, rowCount, settledSink, T0, visible } from './sink-helpers';

// A dataset's key, as every engine must keep it: lookups by key for the worker (RowSink), and
// UPSERT's publish for the job store. Every engine must pass this suite unchanged.

/** Keyed by `code`; `n` is a plain value. */
const KEYED: DatasetColumn[] = [
  { name: 'code', type: 'STRING', required: true, key: true },
  { name: 'n', type: 'INTEGER', required: false },
];

const rows = (...pairs: Array<[string, number | null]>): CellValue[][] => pairs.map(([code, n]) => [code, n]);

describe.each(ENGINES)('dataset keys: $name', (engineUnderTest) => {
  let opened: OpenedEngine;
  let engine: Engine;
  openForEachTest(engineUnderTest, (current) => ({ engine } = opened = current));

  /** Visible: a 1, b 2, c 3. A failed job's: f. */
  async function keyedDataset(): Promise<void> {
    await ingest(opened, await createJob(engine, 'keyed', {}, KEYED), rows(['a', 1], ['b', 2], ['c', 3]), KEYED);
    const failed = await claimAt(engine, T0, await createJob(engine, 'keyed', {}, KEYED));
    await commitRows(await settledSink(opened, failed, KEYED), rows(['f', 9]), 1);
    await endJob(engine, failed, 'FAILED');
  }

  async function upsertJob(dryRun = false): Promise<Job> {
    return claimAt(engine, T0, await createJob(engine, 'keyed', { options: jobOptions({ mode: 'UPSERT', key: ['code'], dryRun }) }, KEYED));
  }

  /** What an UPSERT of a 1 (unchanged), b 20 (updated) and d 4 (inserted) commits. */
  async function commitUpsert(job: Job): Promise<void> {
    const sink = await settledSink(opened, job, KEYED);
    await sink.prepareKey([0], true);
    await commitRows(sink, rows(['a', 1], ['b', 20], ['d', 4]), 3, { checkpoint: { ...checkpoint(4), keyMatches: { updated: 1, unchanged: 1 } } });
    await sink.close();
  }

  const rowNumbers = async () => new Map((await engine.datasets.rows((await engine.datasets.get(WORKSPACE, 'keyed'))!, 0, 100)).map((row) => [row.values.code, row.row]));

  it('finds keys in the visible rows (with their values) and in the job’s own committed rows, not in a failed job’s', async () => {
    await keyedDataset();
    const sink = await settledSink(opened, await upsertJob(), KEYED);
    await sink.prepareKey([0], true);
    expect(await sink.keyed([['a'], ['f'], ['z']])).toEqual({ own: new Set(), visible: new Map([['["a"]', ['a', 1]]]) });
    await commitRows(sink, rows(['z', 26]), 1);
    expect(await sink.keyed([['z'], ['b']])).toEqual({ own: new Set(['["z"]']), visible: new Map([['["b"]', ['b', 2]]]) });
    expect(await sink.keyed([])).toEqual({ own: new Set(), visible: new Map() });
  });

  it('without `visible`, finds only the job’s own rows', async () => {
    await keyedDataset();
    const job = await claimAt(engine, T0, await createJob(engine, 'keyed', { options: jobOptions({ mode: 'REPLACE' }) }, KEYED));
    const sink = await settledSink(opened, job, KEYED);
    await sink.prepareKey([0], false);
    await commitRows(sink, rows(['a', 5]), 1);
    expect(await sink.keyed([['a'], ['b']])).toEqual({ own: new Set(['["a"]']), visible: new Map() });
  });

  it('settle fails KEY_MISMATCH when the job’s key is not the dataset’s', async () => {
    await keyedDataset();
    const job = await claimAt(engine, T0, await createJob(engine, 'keyed', {}, KEYED));
    const sink = await opened.worker.openSink({ jobNum: job.num, datasetId: job.datasetId, leaseToken: job.lease!.token, leaseMs: 60_000 });
    const error = await sink.settle(KEYED.map((column) => ({ ...column, key: column.name === 'n' ? true : undefined }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).code).toBe('KEY_MISMATCH');
  });

  it('publishing an UPSERT replaces the rows of updated keys, keeps unchanged rows as they were, adds the others', async () => {
    await keyedDataset();
    const before = await rowNumbers();
    const job = await upsertJob();
    await commitUpsert(job);
    expect(await visible(engine, 'keyed')).toEqual([{ code: 'a', n: 1 }, { code: 'b', n: 2 }, { code: 'c', n: 3 }]);
    await completeJob(engine, job);
    expect(await visible(engine, 'keyed')).toEqual([{ code: 'a', n: 1 }, { code: 'c', n: 3 }, { code: 'b', n: 20 }, { code: 'd', n: 4 }]);
    expect(await rowCount(engine, 'keyed')).toBe(4);
    const after = await rowNumbers();
    expect(after.get('a')).toBe(before.get('a'));
    expect(after.get('b')).toBeGreaterThan(before.get('c')!);
  });

  it('an UPSERT that fails or is a dry run changes nothing', async () => {
    await keyedDataset();
    const before = await engine.datasets.rows((await engine.datasets.get(WORKSPACE, 'keyed'))!, 0, 100);
    const failing = await upsertJob();
    await commitUpsert(failing);
    await endJob(engine, failing, 'FAILED');
    const dry = await upsertJob(true);
    await commitUpsert(dry);
    expect(await completeJob(engine, dry)).toMatchObject({ status: 'COMPLETED' });
    expect(await engine.datasets.rows((await engine.datasets.get(WORKSPACE, 'keyed'))!, 0, 100)).toEqual(before);
    expect(await rowCount(engine, 'keyed')).toBe(3);
  });
});
