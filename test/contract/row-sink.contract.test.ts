import { beforeEach, describe, expect, it } from 'vitest';
import type { DatasetColumn } from '../../src/datasets/columns';
import { IngestError } from '../../src/ingest/ingest-error';
import type { Job } from '../../src/jobs/model';
import type { Engine } from '../../src/ports/engine';
import { LeaseLostError } from '../../src/ports/errors';
import type { RowSink } from '../../src/ports/row-sink';
import { ENGINES, type OpenedEngine, openForEachTest } from './engines';
import { attemptOf, COLUMNS, createJob, jobOptions } from './fixtures';
import {
  checkpoint,
  claimAt,
  codes,
  commitRows,
  completeJob,
  counters,
  endJob,
  ingest,
  issue,
  reload,
  requeue,
  rowCount,
  settledSink,
  T0,
  visibleCodes,
} from './sink-helpers';

// The RowSink port's contract (the worker's side of an engine): every engine must pass this suite unchanged.

/** COLUMNS without any UNIQUE rule: a dataset declared so has nothing to look UNIQUE values up by. */
const NO_RULES: DatasetColumn[] = COLUMNS.map(({ name, type, required }) => ({ name, type, required }));

/** Two UNIQUE columns, one of text and one of numbers. */
const TWO_UNIQUE: DatasetColumn[] = [
  { name: 'code', type: 'STRING', required: true, unique: true },
  { name: 'n', type: 'INTEGER', required: false, unique: true },
];

describe.each(ENGINES)('RowSink contract: $name', (engineUnderTest) => {
  let opened: OpenedEngine;
  let engine: Engine;
  openForEachTest(engineUnderTest, (current) => ({ engine } = opened = current));

  async function expectIngestError(promise: Promise<unknown>, code: string): Promise<void> {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).code).toBe(code);
  }

  describe('dataset', () => {
    it('returns the dataset as it is now', async () => {
      const job = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      const sink = await opened.worker.openSink(attemptOf(job));
      expect(await sink.dataset()).toEqual(await engine.datasets.getById(job.datasetId));
      expect((await sink.dataset()).columns).toBeNull();
      await sink.settle(COLUMNS);
      expect(await sink.dataset()).toMatchObject({ id: job.datasetId, name: 'inferred', columns: COLUMNS });
      expect(await sink.dataset()).toEqual(await engine.datasets.getById(job.datasetId));
    });
  });

  describe('settle', () => {
    it('sets the shape as the columns of a dataset that has none', async () => {
      const job = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      await settledSink(opened, job, COLUMNS);
      expect((await engine.datasets.getById(job.datasetId))!.columns).toEqual(COLUMNS);
    });

    it('accepts the shape the dataset has', async () => {
      const job = await claimAt(engine, T0, await createJob(engine, 'people'));
      const sink = await settledSink(opened, job, COLUMNS);
      await commitRows(sink, codes('a'), 1);
      await completeJob(engine, job);
      expect(await visibleCodes(engine, 'people')).toEqual(['a']);
    });

    it('accepts a shape that differs only in rules (required, unique), and keeps the dataset’s columns', async () => {
      const job = await claimAt(engine, T0, await createJob(engine, 'people'));
      const relaxed = COLUMNS.map((c) => ({ ...c, required: !c.required, unique: !c.unique }));
      await settledSink(opened, job, relaxed);
      expect((await engine.datasets.getById(job.datasetId))!.columns).toEqual(COLUMNS);
    });

    it('fails SCHEMA_MISMATCH for another shape, and leaves the dataset as it was', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a'));
      const shapes: DatasetColumn[][] = [
        [COLUMNS[0], { ...COLUMNS[1], type: 'DECIMAL' }], // a type
        [COLUMNS[0], { ...COLUMNS[1], name: 'm' }], // a name
        [COLUMNS[1], COLUMNS[0]], // the order
        [COLUMNS[0]], // fewer
        [...COLUMNS, { name: 'extra', type: 'STRING', required: false }], // more
      ];
      const before = await engine.datasets.get('contract', 'people');
      for (const shape of shapes) {
        const job = await claimAt(engine, T0, await createJob(engine, 'people'));
        const sink = await opened.worker.openSink(attemptOf(job));
        await expectIngestError(sink.settle(shape), 'SCHEMA_MISMATCH');
        await sink.close();
        await endJob(engine, job, 'FAILED');
      }
      expect(await engine.datasets.get('contract', 'people')).toMatchObject({ columns: COLUMNS, rowCount: 1 });
      expect((await engine.datasets.get('contract', 'people'))!.columns).toEqual(before!.columns);
      expect(await visibleCodes(engine, 'people')).toEqual(['a']);
      // The dataset takes jobs of its shape as before.
      await ingest(opened, await createJob(engine, 'people'), codes('b'));
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
    });

    it('fails SCHEMA_MISMATCH for a shape other than the one an earlier job inferred', async () => {
      const first = await createJob(engine, 'inferred', {}, null);
      const second = await createJob(engine, 'inferred', {}, null);
      await ingest(opened, first, codes('a'));
      const job = await claimAt(engine, T0, second);
      const sink = await opened.worker.openSink(attemptOf(job));
      await expectIngestError(sink.settle([{ name: 'other', type: 'STRING', required: false }]), 'SCHEMA_MISMATCH');
      expect((await engine.datasets.getById(job.datasetId))!.columns).toEqual(COLUMNS);
    });

    it('writes nothing and throws LeaseLostError when the attempt no longer holds the lease', async () => {
      const job = await createJob(engine, 'inferred', {}, null);
      const first = await claimAt(engine, T0, job);
      await requeue(engine, first);
      const lost = await opened.worker.openSink(attemptOf(first));
      await expect(lost.settle(COLUMNS)).rejects.toBeInstanceOf(LeaseLostError);
      expect((await engine.datasets.getById(job.datasetId))!.columns).toBeNull();
      // Nor after a re-claim: the earlier attempt's token is void.
      await claimAt(engine, T0, job);
      await expect(lost.settle(COLUMNS)).rejects.toBeInstanceOf(LeaseLostError);
      expect((await engine.datasets.getById(job.datasetId))!.columns).toBeNull();
    });

    it('lets a resumed attempt continue the rows of the earlier ones', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('old'));
      const job = await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) });
      const first = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, first), codes('a', 'b'), 2);
      await requeue(engine, first);
      const second = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, second), codes('c'), 3);
      await requeue(engine, second);
      const third = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, third), codes('d'), 4);
      await completeJob(engine, third);
      // REPLACE: every attempt's rows replace the dataset's, none of them is lost.
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c', 'd']);
      expect(await rowCount(engine, 'people')).toBe(4);
    });
  });

  describe('commit', () => {
    let job: Job;
    let sink: RowSink;

    beforeEach(async () => {
      job = await claimAt(engine, Date.now(), await createJob(engine, 'people'), 'instance-a', 1_000);
      sink = await settledSink(opened, job);
    });

    it('writes the rows, issues, counters, checkpoint and stage together', async () => {
      await sink.commit({
        rows: codes('a', 'b'),
        issues: [issue(3), issue(4, 'WARNING')],
        firstIssueIndex: 0,
        rejectedRows: [],
        progress: {
          counters: counters({ processedRows: 4, totalRows: 10, rowsWritten: 2, rowsRejected: 1, bytesRead: 40, issueErrors: 1, issueWarnings: 1 }),
          checkpoint: { nextRow: 5, byteOffset: 40, extraCellsNoted: true, issuesStored: 2 },
          stage: 'writing',
          messages: { note: 'hello' },
        },
      });
      const stored = await reload(engine, job);
      expect(stored).toMatchObject({
        status: 'RUNNING',
        stage: 'writing',
        progress: counters({ processedRows: 4, totalRows: 10, rowsWritten: 2, rowsRejected: 1, bytesRead: 40, issueErrors: 1, issueWarnings: 1 }),
        checkpoint: { nextRow: 5, byteOffset: 40, extraCellsNoted: true, issuesStored: 2 },
        messages: { note: 'hello' },
        sequence: job.sequence + 1,
      });
      expect(await engine.jobs.issues(job.num, null, 10, -1)).toEqual([
        { index: 0, ...issue(3) },
        { index: 1, ...issue(4, 'WARNING') },
      ]);
      await commitRows(sink, codes('c'), 3, { issues: [issue(6)], firstIssueIndex: 2 });
      expect((await reload(engine, job)).stage).toBe('writing'); // a commit without a stage keeps it
      expect(await engine.jobs.issueCount(job.num, null)).toBe(3);
      await completeJob(engine, job);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c']);
    });

    it('writes rejected rows with the batch, texts as they are; the store gives them back in row order, a page at a time', async () => {
      const header = { row: 0, errors: '', cells: ['Code', 'Name'] };
      const awkward = { row: 7, errors: 'code must match ^[a-z]$; and 2 more', cells: ['tab\tquote"comma,', 'line\nbreak\r\n', '\\N', 'emoji 🚀', ''] };
      await commitRows(sink, codes('a'), 1, { rejectedRows: [header, { row: 2, errors: 'e2', cells: ['x'] }] });
      await commitRows(sink, [], 1, { rejectedRows: [awkward] });
      expect(await engine.jobs.rejectedRows(job.num, -1, 10)).toEqual([header, { row: 2, errors: 'e2', cells: ['x'] }, awkward]);
      expect(await engine.jobs.rejectedRows(job.num, 0, 1)).toEqual([{ row: 2, errors: 'e2', cells: ['x'] }]);
      expect(await engine.jobs.rejectedRows(job.num, 2, 10)).toEqual([awkward]);
      // A job that starts over forgets them; they are its file's, not the dataset's.
      await requeue(engine, job, 'startOver');
      expect(await engine.jobs.rejectedRows(job.num, -1, 10)).toEqual([]);
    });

    it('writes no rejected row of a batch whose attempt lost its lease', async () => {
      await requeue(engine, job);
      await expect(commitRows(sink, [], 0, { rejectedRows: [{ row: 1, errors: 'e', cells: ['x'] }] })).rejects.toBeInstanceOf(LeaseLostError);
      expect(await engine.jobs.rejectedRows(job.num, -1, 10)).toEqual([]);
    });

    it('takes a batch without rows or issues (progress only)', async () => {
      await sink.commit({ rows: [], issues: [], firstIssueIndex: 0, rejectedRows: [], progress: { counters: counters({ processedRows: 0, bytesRead: 5 }) } });
      expect((await reload(engine, job)).progress.bytesRead).toBe(5);
    });

    it('extends the lease by the attempt’s leaseMs, and advances updatedAt', async () => {
      expect(job.lease!.expiresAt).toBeLessThanOrEqual(Date.now() + 1_000);
      const long = await opened.worker.openSink(attemptOf(job, 600_000));
      const before = Date.now();
      await commitRows(long, [], 0);
      const stored = await reload(engine, job);
      expect(stored.lease!.token).toBe(job.lease!.token);
      expect(stored.lease!.expiresAt).toBeGreaterThanOrEqual(before + 600_000);
      expect(stored.updatedAt).toBeGreaterThanOrEqual(before);
    });

    it('throws LeaseLostError and writes nothing when the job ended meanwhile', async () => {
      await commitRows(sink, codes('a'), 1, { issues: [issue(2)] });
      const committed = await reload(engine, job);
      await endJob(engine, job, 'CANCELLED');
      const ended = await reload(engine, job);
      await expect(commitRows(sink, codes('b', 'c'), 3, { issues: [issue(5)], firstIssueIndex: 1 })).rejects.toBeInstanceOf(LeaseLostError);
      expect(await reload(engine, job)).toEqual(ended);
      expect(ended.progress).toEqual(committed.progress);
      expect(await engine.jobs.issueCount(job.num, null)).toBe(1);
    });

    it('throws LeaseLostError and writes nothing when the job went back to the queue: the resumed attempt does not publish it', async () => {
      await commitRows(sink, codes('a'), 1, { issues: [issue(2)] });
      await requeue(engine, job);
      const waiting = await reload(engine, job);
      await expect(commitRows(sink, codes('lost1', 'lost2'), 3, { issues: [issue(5)], firstIssueIndex: 1 })).rejects.toBeInstanceOf(LeaseLostError);
      expect(await reload(engine, job)).toEqual(waiting);
      expect(await engine.jobs.issueCount(job.num, null)).toBe(1);

      const resumed = await claimAt(engine, T0, job);
      expect(resumed.progress.rowsWritten).toBe(1);
      await commitRows(await settledSink(opened, resumed), codes('b'), 2);
      await completeJob(engine, resumed);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
      expect(await rowCount(engine, 'people')).toBe(2);
    });

    it('of the earlier attempt after a re-claim throws LeaseLostError and writes nothing', async () => {
      await commitRows(sink, codes('a'), 1);
      await requeue(engine, job);
      const second = await claimAt(engine, T0, job);
      const current = await settledSink(opened, second);
      await commitRows(current, codes('b'), 2, { issues: [issue(3)] });
      const held = await reload(engine, job);

      await expect(commitRows(sink, codes('stale1', 'stale2'), 9, { issues: [issue(7), issue(8)], firstIssueIndex: 1, checkpoint: checkpoint(100) })).rejects.toBeInstanceOf(LeaseLostError);
      expect(await reload(engine, job)).toEqual(held);
      expect(await engine.jobs.issues(job.num, null, 10, -1)).toEqual([{ index: 0, ...issue(3) }]);

      await commitRows(current, codes('c'), 3, { issues: [issue(4)], firstIssueIndex: 1 });
      await completeJob(engine, second);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c']);
      expect(await rowCount(engine, 'people')).toBe(3);
      expect((await engine.jobs.issues(job.num, null, 10, -1)).map((i) => i.row)).toEqual([3, 4]);
    });

    it('throws LeaseLostError after the job completed, and the dataset keeps what was published', async () => {
      await commitRows(sink, codes('a'), 1);
      await completeJob(engine, job);
      await expect(commitRows(sink, codes('late'), 2)).rejects.toBeInstanceOf(LeaseLostError);
      await ingest(opened, await createJob(engine, 'people'), codes('b'));
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
      expect(await rowCount(engine, 'people')).toBe(2);
    });
  });

  describe('prepareUnique and taken', () => {
    /** Visible: a, b (then REPLACE-superseded: s). A failed job's: f. */
    async function history(columns: DatasetColumn[] = COLUMNS, dataset = 'people'): Promise<void> {
      await ingest(opened, await createJob(engine, dataset, {}, columns), codes('s'), columns);
      await ingest(opened, await createJob(engine, dataset, { options: jobOptions({ mode: 'REPLACE' }) }, columns), codes('a', 'b'), columns);
      const failed = await claimAt(engine, T0, await createJob(engine, dataset, {}, columns));
      await commitRows(await settledSink(opened, failed, columns), codes('f'), 1);
      await endJob(engine, failed, 'FAILED');
      expect(await visibleCodes(engine, dataset)).toEqual(['a', 'b']);
    }

    async function takenCodes(sink: RowSink, values: string[]): Promise<string[]> {
      return [...(await sink.taken(0, values))].map(String).sort();
    }

    for (const declared of ['with the dataset', 'by a later job'] as const) {
      // 'by a later job': the dataset was declared without the rule, so its store has nothing built for it.
      const datasetColumns = declared === 'with the dataset' ? COLUMNS : NO_RULES;

      describe(`a UNIQUE rule declared ${declared}`, () => {
        it("takes the values of the dataset's visible rows and of the job's own committed rows, not a failed job's or superseded ones", async () => {
          await history(datasetColumns);
          const job = await claimAt(engine, T0, await createJob(engine, 'people', {}, datasetColumns));
          const sink = await settledSink(opened, job, COLUMNS);
          await sink.prepareUnique([0], false);
          expect(await takenCodes(sink, ['a', 'b', 'f', 's', 'z'])).toEqual(['a', 'b']);
          await commitRows(sink, codes('z', 'y'), 2);
          expect(await takenCodes(sink, ['a', 'f', 'y', 'z', 'q'])).toEqual(['a', 'y', 'z']);
          expect(await sink.taken(0, [])).toEqual(new Set());
        });

        it("with replace, ignores the dataset's rows but not the job's own", async () => {
          await history(datasetColumns);
          const job = await claimAt(engine, T0, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }, datasetColumns));
          const sink = await settledSink(opened, job, COLUMNS);
          await sink.prepareUnique([0], true);
          expect(await takenCodes(sink, ['a', 'b', 'f', 's'])).toEqual([]);
          await commitRows(sink, codes('a', 'z'), 2);
          expect(await takenCodes(sink, ['a', 'b', 'z'])).toEqual(['a', 'z']);
        });

        it("takes the rows an earlier attempt of the job committed, when prepared by a resumed attempt", async () => {
          await history(datasetColumns);
          const job = await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }, datasetColumns);
          const first = await claimAt(engine, T0, job);
          await commitRows(await settledSink(opened, first, COLUMNS), codes('x1', 'x2'), 2);
          await requeue(engine, first);
          const second = await claimAt(engine, T0, job);
          const sink = await settledSink(opened, second, COLUMNS);
          await sink.prepareUnique([0], true);
          expect(await takenCodes(sink, ['a', 'x1', 'x2', 'x3'])).toEqual(['x1', 'x2']);
        });

        it('does not take the rows of an attempt that started over', async () => {
          await history(datasetColumns);
          const job = await createJob(engine, 'people', {}, datasetColumns);
          const first = await claimAt(engine, T0, job);
          await commitRows(await settledSink(opened, first, COLUMNS), codes('x1'), 1);
          await requeue(engine, first, 'startOver');
          const second = await claimAt(engine, T0, job);
          const sink = await settledSink(opened, second, COLUMNS);
          await sink.prepareUnique([0], false);
          expect(await takenCodes(sink, ['a', 'x1'])).toEqual(['a']);
        });

        it('looks numbers up as numbers', async () => {
          const columns = declared === 'with the dataset' ? TWO_UNIQUE : NO_RULES;
          await ingest(opened, await createJob(engine, 'numbers', {}, columns), [['a', 1], ['b', 2]], columns);
          const job = await claimAt(engine, T0, await createJob(engine, 'numbers', {}, columns));
          const sink = await settledSink(opened, job, TWO_UNIQUE);
          await sink.prepareUnique([0, 1], false);
          expect(await sink.taken(1, [1, 3])).toEqual(new Set([1]));
          await commitRows(sink, [['c', 3]], 1);
          expect(await sink.taken(1, [1, 2, 3, 4])).toEqual(new Set([1, 2, 3]));
          expect(await sink.taken(0, ['a', 'c', 'd'])).toEqual(new Set(['a', 'c']));
        });
      });
    }

    it('keeps a dataset’s rules to itself: values of another dataset are not taken', async () => {
      await ingest(opened, await createJob(engine, 'other'), codes('a'));
      await ingest(opened, await createJob(engine, 'people'), codes('b'));
      const job = await claimAt(engine, T0, await createJob(engine, 'people'));
      const sink = await settledSink(opened, job);
      await sink.prepareUnique([0], false);
      expect(await takenCodes(sink, ['a', 'b'])).toEqual(['b']);
    });
  });
});
