import { describe, expect, it } from 'vitest';
import type { CellValue } from '../../src/datasets/column-types';
import type { DatasetColumn } from '../../src/datasets/columns';
import type { Dataset } from '../../src/datasets/model';
import { toColumnValue } from '../../src/ingest/values';
import type { Engine } from '../../src/ports/engine';
import { ENGINES, type OpenedEngine, openForEachTest } from './engines';
import { COLUMNS, createJob, jobOptions, WORKSPACE } from './fixtures';
import { claimAt, codes, commitRows, completeJob, endJob, ingest, purgeAll, requeue, rowCount, settledSink, T0, visibleCodes } from './sink-helpers';

// The DatasetStore port's contract: every engine must pass this suite unchanged.

/** One column of every type. */
const TYPED: DatasetColumn[] = [
  { name: 's', type: 'STRING', required: false },
  { name: 'i', type: 'INTEGER', required: false },
  { name: 'd', type: 'DECIMAL', required: false },
  { name: 'b', type: 'BOOLEAN', required: false },
  { name: 'day', type: 'DATE', required: false },
  { name: 'at', type: 'DATETIME', required: false },
  { name: 'mail', type: 'EMAIL', required: false },
];

/** A row of TYPED as the ingest stores it, from the cells of a file (null: blank). */
function stored(cells: Array<string | null>): CellValue[] {
  return cells.map((cell, i) => (cell === null ? null : (toColumnValue(TYPED[i].type, cell) as CellValue)));
}

describe.each(ENGINES)('DatasetStore contract: $name', (engineUnderTest) => {
  let opened: OpenedEngine;
  let engine: Engine;
  openForEachTest(engineUnderTest, (current) => ({ engine } = opened = current));

  async function dataset(name: string, workspace = WORKSPACE): Promise<Dataset> {
    const found = await engine.datasets.get(workspace, name);
    if (!found) throw new Error(`no dataset ${name}`);
    return found;
  }

  describe('get, getById and list', () => {
    it('find a dataset by its workspace and name, and by id', async () => {
      const job = await createJob(engine, 'people', { now: T0 });
      const found = await engine.datasets.get(WORKSPACE, 'people');
      expect(found).toMatchObject({ id: job.datasetId, workspace: WORKSPACE, name: 'people', columns: COLUMNS, rowCount: 0, createdAt: T0 });
      expect(await engine.datasets.getById(job.datasetId)).toEqual(found);
      expect(await engine.datasets.get(WORKSPACE, 'nobody')).toBeNull();
      expect(await engine.datasets.get('elsewhere', 'people')).toBeNull();
      expect(await engine.datasets.getById(job.datasetId + 1000)).toBeNull();
    });

    it('match names exactly', async () => {
      await createJob(engine, 'People');
      expect(await engine.datasets.get(WORKSPACE, 'people')).toBeNull();
      expect(await engine.datasets.get(WORKSPACE, 'People ')).toBeNull();
      await createJob(engine, 'people');
      expect((await engine.datasets.list(WORKSPACE)).map((d) => d.name).sort()).toEqual(['People', 'people']);
    });

    it("list the workspace's datasets by name, and no other workspace's", async () => {
      for (const name of ['zebra', 'alpha', 'mid']) await createJob(engine, name);
      await createJob(engine, 'beta', { workspace: 'elsewhere' });
      expect((await engine.datasets.list(WORKSPACE)).map((d) => d.name)).toEqual(['alpha', 'mid', 'zebra']);
      expect((await engine.datasets.list('elsewhere')).map((d) => d.name)).toEqual(['beta']);
      expect(await engine.datasets.list('nobody')).toEqual([]);
      const alpha = (await engine.datasets.list(WORKSPACE))[0];
      expect(alpha).toEqual(await dataset('alpha'));
    });

    it('see what another engine on the same storage wrote', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      const other = (await opened.another());
      expect(await other.datasets.get(WORKSPACE, 'people')).toEqual(await dataset('people'));
      expect((await other.datasets.rows(await dataset('people'), 0, 10)).map((r) => r.values.code)).toEqual(['a', 'b']);
    });
  });

  describe('rows', () => {
    it('gives the values typed back as the columns say', async () => {
      const rows = [
        stored(['text', '42', '1.5', 'true', '2024-02-29', '2024-02-29T12:30:00Z', 'a@example.com']),
        stored(['', '-7', '0', 'false', null, null, null]),
        stored([null, null, null, null, null, null, null]),
      ];
      await ingest(opened, await createJob(engine, 'typed', {}, TYPED), rows, TYPED);
      const got = await engine.datasets.rows(await dataset('typed'), 0, 10);
      expect(got.map((r) => r.values)).toEqual([
        { s: 'text', i: 42, d: 1.5, b: true, day: '2024-02-29', at: '2024-02-29T12:30:00.000Z', mail: 'a@example.com' },
        { s: '', i: -7, d: 0, b: false, day: null, at: null, mail: null },
        { s: null, i: null, d: null, b: null, day: null, at: null, mail: null },
      ]);
      expect(typeof got[0].values.b).toBe('boolean');
      expect(typeof got[0].values.i).toBe('number');
    });

    it('keeps large integers and decimals exact', async () => {
      const rows = [stored([null, String(Number.MAX_SAFE_INTEGER), '123456.789', null, null, null, null])];
      await ingest(opened, await createJob(engine, 'typed', {}, TYPED), rows, TYPED);
      const [row] = await engine.datasets.rows(await dataset('typed'), 0, 10);
      expect(row.values).toMatchObject({ i: Number.MAX_SAFE_INTEGER, d: 123456.789 });
    });

    it('keeps text exactly, whatever characters a bulk format gives meaning to', async () => {
      const texts = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', 'NULL', '', ' padded ', 'quote " and \'', 'comma, semi;', 'é 日本 😀', '\\.', 'end\\'];
      await ingest(opened, await createJob(engine, 'typed', {}, TYPED), texts.map((text) => stored([text, null, null, null, null, null, null])), TYPED);
      const got = await engine.datasets.rows(await dataset('typed'), 0, 100);
      expect(got.map((row) => row.values.s)).toEqual(texts);
    });

    it('is empty for a dataset without columns or rows', async () => {
      await createJob(engine, 'inferred', {}, null);
      await createJob(engine, 'people');
      expect(await engine.datasets.rows(await dataset('inferred'), 0, 10)).toEqual([]);
      expect(await engine.datasets.rows(await dataset('people'), 0, 10)).toEqual([]);
    });

    it('pages by row number: rows after `afterRow`, up to `limit`, in row order', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b', 'c'));
      await ingest(opened, await createJob(engine, 'people'), codes('d', 'e'));
      const all = await engine.datasets.rows(await dataset('people'), 0, 100);
      expect(all.map((r) => r.values.code)).toEqual(['a', 'b', 'c', 'd', 'e']);
      const numbers = all.map((r) => r.row);
      expect([...numbers].sort((x, y) => x - y)).toEqual(numbers);
      expect(new Set(numbers).size).toBe(5);

      const pages: string[][] = [];
      let after = 0;
      for (;;) {
        const page = await engine.datasets.rows(await dataset('people'), after, 2);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(2);
        pages.push(page.map((r) => r.values.code as string));
        after = page.at(-1)!.row;
      }
      expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
      expect((await engine.datasets.rows(await dataset('people'), numbers[2], 100)).map((r) => r.values.code)).toEqual(['d', 'e']);
      expect(await engine.datasets.rows(await dataset('people'), numbers[4], 100)).toEqual([]);
    });

    it("shows no rows of a running job, nor of a failed or cancelled one, and those of a completed one", async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a'));
      const failed = await claimAt(engine, T0, await createJob(engine, 'people'));
      await commitRows(await settledSink(opened, failed), codes('f1', 'f2'), 2);
      await endJob(engine, failed, 'FAILED');
      const cancelled = await claimAt(engine, T0, await createJob(engine, 'people'));
      await commitRows(await settledSink(opened, cancelled), codes('c1'), 1);
      await endJob(engine, cancelled, 'CANCELLED');
      const running = await claimAt(engine, T0, await createJob(engine, 'people'));
      await commitRows(await settledSink(opened, running), codes('r1', 'r2'), 2);

      expect(await visibleCodes(engine, 'people')).toEqual(['a']);
      expect(await rowCount(engine, 'people')).toBe(1);
      await completeJob(engine, running);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'r1', 'r2']);
      expect(await rowCount(engine, 'people')).toBe(3);
      // Paging over the hidden rows between them.
      const [first] = await engine.datasets.rows(await dataset('people'), 0, 1);
      expect((await engine.datasets.rows(await dataset('people'), first.row, 1)).map((r) => r.values.code)).toEqual(['r1']);
    });

    it('shows no rows of a job waiting to resume, until it completes', async () => {
      const job = await createJob(engine, 'people');
      const first = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, first), codes('a', 'b'), 2);
      await requeue(engine, first);
      expect(await visibleCodes(engine, 'people')).toEqual([]);
      const resumed = await claimAt(engine, T0, job);
      const sink = await settledSink(opened, resumed);
      await commitRows(sink, codes('c'), 3);
      await completeJob(engine, resumed);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c']);
      expect(await rowCount(engine, 'people')).toBe(3);
    });

    it('shows only the rows of the last REPLACE and what was appended after it', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      await ingest(opened, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }), codes('c'));
      await ingest(opened, await createJob(engine, 'people'), codes('d'));
      await ingest(opened, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }), codes('e', 'f'));
      await ingest(opened, await createJob(engine, 'people'), codes('g'));
      expect(await visibleCodes(engine, 'people')).toEqual(['e', 'f', 'g']);
      expect(await rowCount(engine, 'people')).toBe(3);
    });

    it("shows a failed REPLACE's dataset as it was", async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      const replacing = await claimAt(engine, T0, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }));
      await commitRows(await settledSink(opened, replacing), codes('x'), 1);
      await endJob(engine, replacing, 'FAILED');
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
      expect(await rowCount(engine, 'people')).toBe(2);
    });

    it("keeps each dataset's rows its own", async () => {
      await ingest(opened, await createJob(engine, 'one'), codes('a'));
      await ingest(opened, await createJob(engine, 'two'), codes('b'));
      await ingest(opened, await createJob(engine, 'one', { workspace: 'elsewhere' }), codes('c'));
      expect(await visibleCodes(engine, 'one')).toEqual(['a']);
      expect(await visibleCodes(engine, 'two')).toEqual(['b']);
      expect((await engine.datasets.rows(await dataset('one', 'elsewhere'), 0, 10)).map((r) => r.values.code)).toEqual(['c']);
    });
  });

  describe('purgeStep', () => {
    it('returns 0 when there is nothing to purge', async () => {
      expect(await engine.datasets.purgeStep(100)).toBe(0);
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      expect(await engine.datasets.purgeStep(100)).toBe(0);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
    });

    it('removes the rows of failed and cancelled jobs and those a REPLACE superseded, a step at a time, never visible ones', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('s1', 's2', 's3', 's4')); // superseded below
      const failed = await claimAt(engine, T0, await createJob(engine, 'people'));
      await commitRows(await settledSink(opened, failed), codes('f1', 'f2', 'f3'), 3);
      await endJob(engine, failed, 'FAILED');
      await ingest(opened, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }), codes('v1', 'v2'));
      const cancelled = await claimAt(engine, T0, await createJob(engine, 'other'));
      await commitRows(await settledSink(opened, cancelled), codes('c1', 'c2'), 2);
      await endJob(engine, cancelled, 'CANCELLED');
      await ingest(opened, await createJob(engine, 'people'), codes('v3'));
      const before = await engine.datasets.rows(await dataset('people'), 0, 100);
      expect(before.map((r) => r.values.code)).toEqual(['v1', 'v2', 'v3']);

      const steps = await purgeAll(engine, 2);
      for (const step of steps) expect(step).toBeLessThanOrEqual(2);
      // 4 superseded, 3 failed and 2 cancelled rows: at least 9 rows, 2 a step at most.
      expect(steps.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(9);
      expect(steps.length).toBeGreaterThanOrEqual(5);
      expect(await engine.datasets.rows(await dataset('people'), 0, 100)).toEqual(before);
      expect(await rowCount(engine, 'people')).toBe(3);
      expect(await engine.datasets.purgeStep(2)).toBe(0);
      // The datasets go on as before.
      await ingest(opened, await createJob(engine, 'people'), codes('v4'));
      await ingest(opened, await createJob(engine, 'other'), codes('o1'));
      expect(await visibleCodes(engine, 'people')).toEqual(['v1', 'v2', 'v3', 'v4']);
      expect(await visibleCodes(engine, 'other')).toEqual(['o1']);
    });

    it('leaves the rows of a running job and of a job waiting to resume, which become visible when it completes', async () => {
      // Something to purge beside them, so that the purger runs over these datasets too.
      const failed = await claimAt(engine, T0, await createJob(engine, 'failed'));
      await commitRows(await settledSink(opened, failed), codes('x'), 1);
      await endJob(engine, failed, 'FAILED');
      const running = await claimAt(engine, T0, await createJob(engine, 'running'));
      await commitRows(await settledSink(opened, running), codes('r1'), 1);
      const waiting = await createJob(engine, 'waiting');
      const first = await claimAt(engine, T0, waiting);
      await commitRows(await settledSink(opened, first), codes('w1', 'w2'), 2);
      await requeue(engine, first);

      expect((await purgeAll(engine, 1)).length).toBeGreaterThanOrEqual(1);
      // Still hidden, still there.
      expect(await visibleCodes(engine, 'running')).toEqual([]);
      expect(await visibleCodes(engine, 'waiting')).toEqual([]);
      await completeJob(engine, running);
      const resumed = await claimAt(engine, T0, waiting);
      await commitRows(await settledSink(opened, resumed), codes('w3'), 3);
      await completeJob(engine, resumed);
      expect(await visibleCodes(engine, 'running')).toEqual(['r1']);
      expect(await visibleCodes(engine, 'waiting')).toEqual(['w1', 'w2', 'w3']);
    });

    it('removes the rows of an attempt that started over', async () => {
      const job = await createJob(engine, 'people');
      const first = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, first), codes('a', 'b', 'c'), 3);
      await requeue(engine, first, 'startOver');
      const steps = await purgeAll(engine, 1);
      expect(steps.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(3);
      const second = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, second), codes('d'), 1);
      expect(await purgeAll(engine, 1)).toEqual([]);
      await completeJob(engine, second);
      expect(await visibleCodes(engine, 'people')).toEqual(['d']);
    });
  });
});
