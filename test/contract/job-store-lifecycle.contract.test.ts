import { describe, expect, it } from 'vitest';
import type { CellValue } from '../../src/datasets/column-types';
import { toColumnValue } from '../../src/ingest/values';
import type { Engine } from '../../src/ports/engine';
import type { Delivery } from '../../src/webhooks/model';
import { ENGINES, type OpenedEngine, openForEachTest } from './engines';
import { COLUMNS, createJob, jobOptions, WORKSPACE } from './fixtures';
import {
  claimAt,
  codes,
  commitRows,
  completeJob,
  counters,
  endJob,
  ingest,
  issue,
  LEASE_MS,
  reload,
  requeue,
  rowCount,
  settledSink,
  T0,
  visibleCodes,
} from './sink-helpers';

// The JobStore port's contract, claims, transitions and leases: every engine must pass this suite unchanged.

describe.each(ENGINES)('JobStore contract: $name', (engineUnderTest) => {
  let opened: OpenedEngine;
  let engine: Engine;
  openForEachTest(engineUnderTest, (current) => ({ engine } = opened = current));


  describe('claimNext', () => {
    it('names the claiming instance in `instance`, which stays after the lease is dropped and changes with the next claim', async () => {
      const job = await createJob(engine, 'a');
      expect(job.instance).toBeNull();
      const first = await claimAt(engine, T0, job, 'instance-a');
      expect(first.instance).toBe('instance-a');
      expect((await requeue(engine, first)).instance).toBe('instance-a');
      const second = await claimAt(engine, T0 + 2, job, 'instance-b');
      expect(second.instance).toBe('instance-b');
      expect((await completeJob(engine, second, T0 + 3)).instance).toBe('instance-b');
    });

    it('moves the job to RUNNING under a fresh lease of the owner and starts an attempt', async () => {
      const job = await createJob(engine, 'people', { now: T0 - 1000 });
      const claimed = await engine.jobs.claimNext({ owner: 'instance-a', leaseMs: 5000, now: T0 });
      expect(claimed!.before).toEqual(job);
      expect(claimed!.after).toMatchObject({
        num: job.num,
        status: 'RUNNING',
        attempts: 1,
        startedAt: T0,
        updatedAt: T0,
        completedAt: null,
        attempt: { startedAt: T0, rows: 0, bytes: 0 },
        lease: { owner: 'instance-a', expiresAt: T0 + 5000 },
        sequence: job.sequence + 1,
      });
      expect(claimed!.after.lease!.token).toEqual(expect.any(String));
      expect(await reload(engine, job)).toEqual(claimed!.after);
    });

    it('returns null when nothing is runnable', async () => {
      expect(await engine.jobs.claimNext({ owner: 'a', leaseMs: LEASE_MS, now: T0 })).toBeNull();
      const job = await createJob(engine, 'people');
      await claimAt(engine, T0, job);
      expect(await engine.jobs.claimNext({ owner: 'a', leaseMs: LEASE_MS, now: T0 })).toBeNull(); // running
      await completeJob(engine, job);
      expect(await engine.jobs.claimNext({ owner: 'a', leaseMs: LEASE_MS, now: T0 })).toBeNull(); // ended
    });

    it('claims in arrival order', async () => {
      const jobs = [];
      for (const name of ['c', 'a', 'b', 'a2']) jobs.push(await createJob(engine, name));
      const claimed = [];
      for (let i = 0; i < jobs.length; i++) claimed.push((await claimAt(engine, T0)).num);
      expect(claimed).toEqual(jobs.map((j) => j.num));
    });

    it('claims across workspaces', async () => {
      const theirs = await createJob(engine, 'people', { workspace: 'elsewhere' });
      const mine = await createJob(engine, 'people');
      expect((await claimAt(engine, T0)).num).toBe(theirs.num);
      expect((await claimAt(engine, T0)).num).toBe(mine.num);
    });

    it("runs one job per dataset: a dataset's next job waits for the running one, another dataset's does not", async () => {
      const a1 = await createJob(engine, 'a');
      const a2 = await createJob(engine, 'a');
      const b1 = await createJob(engine, 'b');
      await claimAt(engine, T0, a1);
      await claimAt(engine, T0, b1);
      expect(await engine.jobs.claimNext({ owner: 'x', leaseMs: LEASE_MS, now: T0 })).toBeNull();
      await completeJob(engine, a1);
      await claimAt(engine, T0, a2);
    });

    it('lets the next job of a dataset run when the running one fails, is cancelled, or goes back to the queue', async () => {
      const a1 = await createJob(engine, 'a');
      const a2 = await createJob(engine, 'a');
      const a3 = await createJob(engine, 'a');
      await endJob(engine, await claimAt(engine, T0, a1), 'FAILED');
      await endJob(engine, await claimAt(engine, T0, a2), 'CANCELLED');
      await requeue(engine, await claimAt(engine, T0, a3));
      await claimAt(engine, T0, a3); // back in the queue: runnable again, and the oldest
    });

    it('gives every claim a fresh lease token, also a re-claim of the same job', async () => {
      const a = await createJob(engine, 'a');
      const b = await createJob(engine, 'b');
      const first = await claimAt(engine, T0, a);
      const other = await claimAt(engine, T0, b);
      await requeue(engine, first);
      const second = await claimAt(engine, T0 + 1000, a, 'instance-b');
      const tokens = [first.lease!.token, other.lease!.token, second.lease!.token];
      expect(new Set(tokens).size).toBe(3);
      expect(second.lease).toEqual({ owner: 'instance-b', token: second.lease!.token, expiresAt: T0 + 1000 + LEASE_MS });
    });

    it('counts attempts, keeps the first startedAt on a re-claim and starts the attempt where the job stands', async () => {
      const job = await createJob(engine, 'people');
      const first = await claimAt(engine, T0, job);
      const sink = await settledSink(opened, first);
      await commitRows(sink, codes('a', 'b'), 2);
      await requeue(engine, first, null, T0 + 500);
      const second = await claimAt(engine, T0 + 1000, job);
      expect(second.attempts).toBe(2);
      expect(second.startedAt).toBe(T0);
      expect(second.attempt).toEqual({ startedAt: T0 + 1000, rows: 2, bytes: 20 });
      expect(second.progress.rowsWritten).toBe(2); // a re-claim keeps the counters
    });

    it('never gives the same job to two claims, from engines on the same storage', async () => {
      const other = (await opened.another());
      const jobs = [];
      for (let i = 0; i < 12; i++) jobs.push(await createJob(engine, `d${i}`));
      const engines = [engine, other];
      const claims = await Promise.all(
        Array.from({ length: 30 }, (_, i) => engines[i % 2].jobs.claimNext({ owner: `owner-${i % 2}`, leaseMs: LEASE_MS, now: T0 })),
      );
      const won = claims.filter((c) => c !== null).map((c) => c!.after.num);
      expect(won.sort((x, y) => x - y)).toEqual(jobs.map((j) => j.num));
      for (const job of jobs) expect((await reload(engine, job)).attempts).toBe(1);
    });

    it('never runs two jobs of one dataset at once, whichever engine claims', async () => {
      const other = (await opened.another());
      for (let i = 0; i < 6; i++) await createJob(engine, 'shared');
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => [engine, other][i % 2].jobs.claimNext({ owner: `o${i}`, leaseMs: LEASE_MS, now: T0 })));
      expect(claims.filter((c) => c !== null)).toHaveLength(1);
      expect(await engine.jobs.count({ workspace: WORKSPACE, statuses: ['RUNNING'] })).toBe(1);
    });
  });

  describe('transition', () => {
    it('moves a PENDING job with the patch, and bumps sequence and updatedAt', async () => {
      const job = await createJob(engine, 'people');
      const cancelled = await engine.jobs.transition(job, 'CANCELLED', { stage: 'cancelled', completedAt: T0 + 7, error: { code: 'CANCELLED', message: 'by request' } }, 'abandon', T0 + 7);
      expect(cancelled).toMatchObject({ status: 'CANCELLED', stage: 'cancelled', completedAt: T0 + 7, updatedAt: T0 + 7, error: { code: 'CANCELLED', message: 'by request' }, lease: null, sequence: job.sequence + 1 });
      expect(await reload(engine, job)).toEqual(cancelled);
    });

    it('sets totalRows, fruitlessAttempts and the attempts increment from the patch', async () => {
      const job = await claimAt(engine, T0, await createJob(engine, 'people'));
      const back = await engine.jobs.transition(job, 'PENDING', { stage: 'queued', attemptsIncrement: -1, fruitlessAttempts: 2 }, null, T0 + 1);
      expect(back).toMatchObject({ status: 'PENDING', stage: 'queued', attempts: 0, fruitlessAttempts: 2, lease: null });
      const again = await claimAt(engine, T0 + 2, job);
      const done = await engine.jobs.transition(again, 'COMPLETED', { stage: 'done', completedAt: T0 + 3 }, 'publish', T0 + 3);
      expect(done).toMatchObject({ status: 'COMPLETED', completedAt: T0 + 3, fruitlessAttempts: 2, attempts: 1, lease: null });
      expect(done!.progress.totalRows).toBe(done!.progress.processedRows); // publish sets the total to the rows processed
    });

    it('loses, and changes nothing, when the job is no longer in the status the Job object has', async () => {
      const job = await createJob(engine, 'people');
      const running = await claimAt(engine, T0, job);
      expect(await engine.jobs.transition(job, 'CANCELLED', { stage: 'cancelled', completedAt: T0 }, 'abandon', T0)).toBeNull();
      expect(await reload(engine, job)).toEqual(running);
      await completeJob(engine, running);
      const done = await reload(engine, job);
      expect(await engine.jobs.transition(running, 'FAILED', { stage: 'failed', completedAt: T0, error: { code: 'X', message: 'x' } }, 'abandon', T0)).toBeNull();
      expect(await reload(engine, job)).toEqual(done);
    });

    it('moves out of RUNNING only under the lease the Job object carries: an earlier attempt cannot move a re-claimed job', async () => {
      const job = await createJob(engine, 'people');
      const first = await claimAt(engine, T0, job);
      await requeue(engine, first);
      const second = await claimAt(engine, T0 + 10, job);
      const snapshot = await reload(engine, job);
      for (const to of ['COMPLETED', 'FAILED', 'CANCELLED', 'PENDING'] as const) {
        expect(await engine.jobs.transition(first, to, { stage: 'x', completedAt: T0 + 20 }, to === 'COMPLETED' ? 'publish' : 'abandon', T0 + 20)).toBeNull();
      }
      expect(await reload(engine, job)).toEqual(snapshot);
      expect(await engine.jobs.transition(second, 'COMPLETED', { stage: 'done', completedAt: T0 + 30 }, 'publish', T0 + 30)).toMatchObject({ status: 'COMPLETED' });
    });

    it('moves nothing for a RUNNING Job object that carries no lease (it holds no lease)', async () => {
      const running = await claimAt(engine, T0, await createJob(engine, 'people'));
      const leaseless = { ...running, lease: null };
      expect(await engine.jobs.transition(leaseless, 'FAILED', { stage: 'failed', completedAt: T0, error: { code: 'X', message: 'x' } }, 'abandon', T0)).toBeNull();
    });

    it('drops the lease on every move out of RUNNING', async () => {
      const a = await claimAt(engine, T0, await createJob(engine, 'a'));
      expect((await requeue(engine, a)).lease).toBeNull();
      expect((await completeJob(engine, await claimAt(engine, T0, a))).lease).toBeNull();
      const b = await claimAt(engine, T0, await createJob(engine, 'b'));
      expect((await endJob(engine, b, 'CANCELLED')).lease).toBeNull();
    });

    it('publish makes an APPEND job’s rows visible beside the earlier ones, with COMPLETED', async () => {
      const first = await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      expect(first.status).toBe('COMPLETED');
      const second = await claimAt(engine, T0, await createJob(engine, 'people'));
      const sink = await settledSink(opened, second);
      await commitRows(sink, codes('c', 'd', 'e'), 3);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
      expect(await rowCount(engine, 'people')).toBe(2);
      await completeJob(engine, second);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await rowCount(engine, 'people')).toBe(5);
    });

    it("publish makes a REPLACE job's rows visible in place of all others", async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      await ingest(opened, await createJob(engine, 'people'), codes('c'));
      const replacing = await claimAt(engine, T0, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }));
      const sink = await settledSink(opened, replacing);
      await commitRows(sink, codes('x', 'y'), 2);
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c']);
      await completeJob(engine, replacing);
      expect(await visibleCodes(engine, 'people')).toEqual(['x', 'y']);
      expect(await rowCount(engine, 'people')).toBe(2);
      // An APPEND after it adds to the replacement.
      await ingest(opened, await createJob(engine, 'people'), codes('z'));
      expect(await visibleCodes(engine, 'people')).toEqual(['x', 'y', 'z']);
      expect(await rowCount(engine, 'people')).toBe(3);
    });

    it('a REPLACE job that wrote no rows empties the dataset', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a', 'b'));
      await ingest(opened, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }), []);
      expect(await visibleCodes(engine, 'people')).toEqual([]);
      expect(await rowCount(engine, 'people')).toBe(0);
    });

    it('publishes the rows the job committed, counted as the store has them, not as the Job object it is given says', async () => {
      const running = await claimAt(engine, T0, await createJob(engine, 'people'));
      await commitRows(await settledSink(opened, running), codes('a', 'b', 'c'), 3);
      // `running` was read before the commit: same status, same lease, so the move wins.
      expect(await engine.jobs.transition(running, 'COMPLETED', { stage: 'done', completedAt: T0 }, 'publish', T0)).toMatchObject({ status: 'COMPLETED' });
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b', 'c']);
      expect(await rowCount(engine, 'people')).toBe(3);
    });

    it('publishes nothing when the move loses', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a'));
      const running = await claimAt(engine, T0, await createJob(engine, 'people', { options: jobOptions({ mode: 'REPLACE' }) }));
      const sink = await settledSink(opened, running);
      await commitRows(sink, codes('b', 'c'), 2);
      const committed = await reload(engine, running);
      await endJob(engine, running, 'CANCELLED');
      expect(await engine.jobs.transition(committed, 'COMPLETED', { stage: 'done', completedAt: T0 }, 'publish', T0)).toBeNull();
      expect(await visibleCodes(engine, 'people')).toEqual(['a']);
      expect(await rowCount(engine, 'people')).toBe(1);
    });

    it('abandon keeps the rows of a failed or cancelled job hidden, and the given columns', async () => {
      await ingest(opened, await createJob(engine, 'people'), codes('a'));
      for (const end of ['FAILED', 'CANCELLED'] as const) {
        const running = await claimAt(engine, T0, await createJob(engine, 'people'));
        const sink = await settledSink(opened, running);
        await commitRows(sink, codes('x', 'y'), 2);
        await endJob(engine, running, end);
      }
      expect(await visibleCodes(engine, 'people')).toEqual(['a']);
      expect(await engine.datasets.get(WORKSPACE, 'people')).toMatchObject({ rowCount: 1, columns: COLUMNS });
      // And they stay hidden after later jobs complete.
      await ingest(opened, await createJob(engine, 'people'), codes('b'));
      expect(await visibleCodes(engine, 'people')).toEqual(['a', 'b']);
    });

    it("abandon forgets the columns the job's own inference set while no job of the dataset completed", async () => {
      const job = await createJob(engine, 'inferred', {}, null);
      const running = await claimAt(engine, T0, job);
      const sink = await settledSink(opened, running);
      expect((await engine.datasets.getById(job.datasetId))!.columns).toEqual(COLUMNS);
      await commitRows(sink, codes('a'), 1);
      await endJob(engine, running, 'FAILED');
      expect(await engine.datasets.getById(job.datasetId)).toMatchObject({ columns: null, rowCount: 0 });
      // The next job may infer other columns.
      const other = [{ name: 'flag', type: 'BOOLEAN' as const, required: true }];
      const next = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      const nextSink = await settledSink(opened, next, other);
      await commitRows(nextSink, [[toColumnValue('BOOLEAN', 'true') as CellValue]], 1);
      await completeJob(engine, next);
      expect((await engine.datasets.getById(job.datasetId))!.columns).toEqual(other);
      expect(await engine.datasets.rows((await engine.datasets.getById(job.datasetId))!, 0, 10)).toEqual([expect.objectContaining({ values: { flag: true } })]);
    });

    it('a move back to the queue without effect keeps the columns its inference set; the resumed attempt failing forgets them', async () => {
      const first = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      await commitRows(await settledSink(opened, first), codes('a'), 1);
      await requeue(engine, first); // interrupted with a checkpoint
      expect((await engine.datasets.getById(first.datasetId))!.columns).toEqual(COLUMNS);
      const resumed = await claimAt(engine, T0, first);
      await settledSink(opened, resumed); // the resumed attempt settles the same shape
      await endJob(engine, resumed, 'FAILED');
      expect(await engine.datasets.getById(first.datasetId)).toMatchObject({ columns: null, rowCount: 0 });
    });

    it('abandon forgets the columns its inference set while no publish has shown them, even after a job completed without columns', async () => {
      const empty = await createJob(engine, 'inferred', {}, null);
      await completeJob(engine, await claimAt(engine, T0, empty)); // completed without settling any columns
      expect((await engine.datasets.getById(empty.datasetId))!.columns).toBeNull();
      const failing = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      await commitRows(await settledSink(opened, failing), codes('a'), 1);
      await endJob(engine, failing, 'FAILED');
      expect(await engine.datasets.getById(empty.datasetId)).toMatchObject({ columns: null, rowCount: 0 });
    });

    it('abandon keeps columns a publish has shown, though a job now failing inferred them first', async () => {
      const first = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      await commitRows(await settledSink(opened, first), codes('a'), 1);
      await completeJob(engine, first);
      const failing = await claimAt(engine, T0, await createJob(engine, 'inferred', {}, null));
      await commitRows(await settledSink(opened, failing), codes('b'), 1);
      await endJob(engine, failing, 'FAILED');
      expect(await engine.datasets.getById(first.datasetId)).toMatchObject({ columns: COLUMNS, rowCount: 1 });
      expect(await visibleCodes(engine, 'inferred')).toEqual(['a']);
    });

    it("completing a dry run publishes nothing: its rows are abandoned and the columns it set forgotten", async () => {
      const dry = await claimAt(engine, T0, await createJob(engine, 'trial', { options: jobOptions({ dryRun: true }) }, null));
      await commitRows(await settledSink(opened, dry), codes('a', 'b'), 2);
      const done = await completeJob(engine, dry);
      expect(done).toMatchObject({ status: 'COMPLETED', progress: { rowsWritten: 2, totalRows: 2 } });
      expect(await engine.datasets.getById(dry.datasetId)).toMatchObject({ columns: null, rowCount: 0, provisional: true });
      const real = await claimAt(engine, T0, await createJob(engine, 'people'));
      await commitRows(await settledSink(opened, real), codes('a'), 1);
      await completeJob(engine, real);
      const dryOnPeople = await claimAt(engine, T0, await createJob(engine, 'people', { options: jobOptions({ dryRun: true, mode: 'REPLACE' }) }));
      await commitRows(await settledSink(opened, dryOnPeople), codes('x', 'y'), 2);
      await completeJob(engine, dryOnPeople);
      expect(await engine.datasets.get(WORKSPACE, 'people')).toMatchObject({ columns: COLUMNS, rowCount: 1 });
      expect(await visibleCodes(engine, 'people')).toEqual(['a']);
    });

    it("startOver hides the attempt's rows and forgets the job's counters and issues", async () => {
      const job = await createJob(engine, 'people');
      const first = await claimAt(engine, T0, job);
      const sink = await settledSink(opened, first);
      await commitRows(sink, codes('a', 'b'), 2, { issues: [issue(3), issue(4, 'WARNING')] });
      expect(await engine.jobs.issueCount(job.num, null)).toBe(2);
      const back = await requeue(engine, first, 'startOver');
      expect(back.progress).toEqual(counters());
      expect(await engine.jobs.issueCount(job.num, null)).toBe(0);
      expect(await engine.jobs.issues(job.num, null, 10, -1)).toEqual([]);
      const second = await claimAt(engine, T0, job);
      expect(second.attempt).toMatchObject({ rows: 0, bytes: 0 });
      const again = await settledSink(opened, second);
      await commitRows(again, codes('c'), 1);
      await completeJob(engine, second);
      expect(await visibleCodes(engine, 'people')).toEqual(['c']);
      expect(await rowCount(engine, 'people')).toBe(1);
    });

    it('a move back to the queue without effect keeps the rows, counters and issues for the resumed attempt', async () => {
      const job = await createJob(engine, 'people');
      const first = await claimAt(engine, T0, job);
      await commitRows(await settledSink(opened, first), codes('a', 'b'), 2, { issues: [issue(3)] });
      const back = await requeue(engine, first, null);
      expect(back.progress.rowsWritten).toBe(2);
      expect(back.checkpoint).toMatchObject({ nextRow: 3 });
      expect(await engine.jobs.issueCount(job.num, null)).toBe(1);
    });

    describe('the outbox rows written with a move', () => {
      const hook = 'https://example.test/job-hook';

      async function endpoint(events: string[], workspace = WORKSPACE, url = `https://example.test/${events.join('+')}`) {
        return (await engine.webhooks.createEndpoint(workspace, url, events, T0, () => {})).endpoint;
      }

      const summary = (deliveries: Delivery[]) => deliveries.map((d) => ({ event: d.event, url: d.url, endpointId: d.endpointId })).sort((x, y) => (`${x.event} ${x.url}` < `${y.event} ${y.url}` ? -1 : 1));

      it('announces job.started once, to the endpoints that asked for it: not to the job’s webhookUrl, not on a resumed attempt', async () => {
        const started = await endpoint(['job.started']);
        await endpoint(['job.completed']);
        const job = await createJob(engine, 'people', { options: jobOptions({ webhookUrl: hook }) });
        expect(await engine.webhooks.forJob(job.num)).toEqual([]);
        const first = await claimAt(engine, T0, job);
        const deliveries = await engine.webhooks.forJob(job.num);
        expect(summary(deliveries)).toEqual([{ event: 'job.started', url: started.url, endpointId: started.id }]);
        expect(deliveries[0]).toMatchObject({ jobNum: job.num, workspace: WORKSPACE, attempts: 0, deliveredAt: null, nextAttemptAt: expect.any(Number) });
        expect(JSON.parse(deliveries[0].payload)).toMatchObject({ type: 'job.started', data: { id: job.id, status: 'RUNNING', dataset: 'people' } });
        await requeue(engine, first);
        await claimAt(engine, T0, job);
        expect(await engine.webhooks.forJob(job.num)).toHaveLength(1);
      });

      it("announces the end to the job's webhookUrl and to the endpoints that asked for that event", async () => {
        const completed = await endpoint(['job.completed', 'job.failed']);
        const failed = await endpoint(['job.failed']);
        await endpoint(['job.cancelled']);
        await endpoint(['job.completed'], 'elsewhere'); // another workspace's endpoint hears nothing of this job
        const disabled = await endpoint(['job.completed'], WORKSPACE, 'https://example.test/disabled');
        await engine.webhooks.disableEndpoint(disabled.id, T0);

        const ok = await createJob(engine, 'a', { options: jobOptions({ webhookUrl: hook }) });
        await ingest(opened, ok, codes('a', 'b'));
        expect(summary(await engine.webhooks.forJob(ok.num))).toEqual([
          { event: 'job.completed', url: hook, endpointId: null },
          { event: 'job.completed', url: completed.url, endpointId: completed.id },
        ]);
        const payload = JSON.parse((await engine.webhooks.forJob(ok.num))[0].payload);
        expect(payload).toMatchObject({ type: 'job.completed', data: { id: ok.id, status: 'COMPLETED', dataset: 'a', rowsWritten: 2 } });

        const bad = await createJob(engine, 'b', { options: jobOptions({ webhookUrl: hook }) });
        await endJob(engine, await claimAt(engine, T0, bad), 'FAILED');
        expect(summary(await engine.webhooks.forJob(bad.num))).toEqual([
          { event: 'job.failed', url: hook, endpointId: null },
          { event: 'job.failed', url: completed.url, endpointId: completed.id },
          { event: 'job.failed', url: failed.url, endpointId: failed.id },
        ]);
        expect(JSON.parse((await engine.webhooks.forJob(bad.num))[0].payload).data.error).toEqual({ code: 'BROKEN', message: 'ended by the test' });

        const quiet = await createJob(engine, 'c'); // no webhookUrl
        await completeJob(engine, await claimAt(engine, T0, quiet));
        expect(summary(await engine.webhooks.forJob(quiet.num))).toEqual([{ event: 'job.completed', url: completed.url, endpointId: completed.id }]);
      });

      it('announces a cancel of a job that never started', async () => {
        const job = await createJob(engine, 'people', { options: jobOptions({ webhookUrl: hook }) });
        await endJob(engine, job, 'CANCELLED');
        expect(summary(await engine.webhooks.forJob(job.num))).toEqual([{ event: 'job.cancelled', url: hook, endpointId: null }]);
      });

      it('writes nothing when the move loses', async () => {
        await endpoint(['job.started', 'job.completed', 'job.failed', 'job.cancelled']);
        const job = await createJob(engine, 'people', { options: jobOptions({ webhookUrl: hook }) });
        const first = await claimAt(engine, T0, job);
        await requeue(engine, first);
        await claimAt(engine, T0, job);
        const before = await engine.webhooks.forJob(job.num);
        expect(await engine.jobs.transition(first, 'COMPLETED', { stage: 'done', completedAt: T0 }, 'publish', T0)).toBeNull();
        expect(await engine.jobs.transition(job, 'CANCELLED', { stage: 'cancelled', completedAt: T0 }, 'abandon', T0)).toBeNull();
        expect(await engine.webhooks.forJob(job.num)).toEqual(before);
      });
    });
  });

  describe('sequence', () => {
    it('increases by one with every change of the job, and not when a change loses', async () => {
      const job = await createJob(engine, 'people');
      const s = job.sequence;
      const running = await claimAt(engine, T0, job);
      expect(running.sequence).toBe(s + 1);
      const sink = await settledSink(opened, running);
      await commitRows(sink, codes('a'), 1);
      expect((await reload(engine, job)).sequence).toBe(s + 2);
      expect(await engine.jobs.renewLease(job.num, running.lease!.token, LEASE_MS, T0 + 1)).toBe(true);
      expect((await reload(engine, job)).sequence).toBe(s + 3);
      expect(await engine.jobs.renewLease(job.num, 'not-the-token', LEASE_MS, T0 + 2)).toBe(false);
      expect((await reload(engine, job)).sequence).toBe(s + 3);
      const done = await completeJob(engine, running);
      expect(done.sequence).toBe(s + 4);
      expect(await engine.jobs.transition(running, 'FAILED', { stage: 'failed' }, 'abandon', T0)).toBeNull();
      expect((await reload(engine, job)).sequence).toBe(s + 4);
    });
  });

  describe('renewLease', () => {
    it('extends the lease and advances updatedAt while the attempt holds it', async () => {
      const running = await claimAt(engine, T0, await createJob(engine, 'people'));
      expect(await engine.jobs.renewLease(running.num, running.lease!.token, 5000, T0 + 1000)).toBe(true);
      expect(await reload(engine, running)).toMatchObject({ updatedAt: T0 + 1000, lease: { owner: 'instance-a', token: running.lease!.token, expiresAt: T0 + 6000 }, status: 'RUNNING' });
    });

    it('is false, and changes nothing, with another token, after a re-claim, after the end, and for a waiting job', async () => {
      const job = await createJob(engine, 'people');
      expect(await engine.jobs.renewLease(job.num, 'anything', LEASE_MS, T0)).toBe(false);
      const first = await claimAt(engine, T0, job);
      expect(await engine.jobs.renewLease(job.num, 'not-the-token', LEASE_MS, T0 + 1)).toBe(false);
      await requeue(engine, first);
      expect(await engine.jobs.renewLease(job.num, first.lease!.token, LEASE_MS, T0 + 2)).toBe(false);
      const second = await claimAt(engine, T0 + 3, job);
      expect(await engine.jobs.renewLease(job.num, first.lease!.token, LEASE_MS, T0 + 4)).toBe(false);
      expect(await reload(engine, job)).toEqual(second);
      const done = await completeJob(engine, second, T0 + 5);
      expect(await engine.jobs.renewLease(job.num, second.lease!.token, LEASE_MS, T0 + 6)).toBe(false);
      expect(await reload(engine, job)).toEqual(done);
      expect(await engine.jobs.renewLease(job.num + 1000, second.lease!.token, LEASE_MS, T0 + 6)).toBe(false);
    });
  });

  describe('requestCancel', () => {
    it('flags a job RUNNING under the given lease, its state and sequence otherwise unchanged; the flag stays through a requeue', async () => {
      const job = await createJob(engine, 'a');
      expect(job.cancelRequested).toBe(false);
      const running = await claimAt(engine, T0, job);
      expect(await engine.jobs.requestCancel(running.num, 'not-its-token')).toBeNull();
      const flagged = await engine.jobs.requestCancel(running.num, running.lease!.token);
      expect(flagged).toEqual({ ...running, cancelRequested: true });
      expect(await reload(engine, job)).toEqual(flagged);
      expect((await requeue(engine, flagged!)).cancelRequested).toBe(true);
    });

    it('flags nothing that is not RUNNING', async () => {
      const job = await createJob(engine, 'a');
      expect(await engine.jobs.requestCancel(job.num, 'any')).toBeNull();
      const running = await claimAt(engine, T0, job);
      const done = await completeJob(engine, running, T0 + 1);
      expect(await engine.jobs.requestCancel(done.num, running.lease!.token)).toBeNull();
      expect((await reload(engine, job)).cancelRequested).toBe(false);
    });
  });

  describe('withVoidLease', () => {
    it("lists RUNNING jobs whose lease expired or is another owner's, not the live owner's fresh ones", async () => {
      const fresh = await createJob(engine, 'a');
      const expired = await createJob(engine, 'b');
      const foreign = await createJob(engine, 'c');
      const renewed = await createJob(engine, 'd');
      const ended = await createJob(engine, 'f');
      await claimAt(engine, T0, fresh, 'me', 10_000);
      await claimAt(engine, T0, expired, 'me', 1_000);
      await claimAt(engine, T0, foreign, 'them', 10_000);
      const renewedRunning = await claimAt(engine, T0, renewed, 'me', 1_000);
      await engine.jobs.renewLease(renewed.num, renewedRunning.lease!.token, 10_000, T0 + 500);
      await completeJob(engine, await claimAt(engine, T0, ended, 'them', 1_000));
      await createJob(engine, 'e'); // waiting: no lease at all

      const nums = async (owner: string, now: number) => (await engine.jobs.withVoidLease(owner, now)).map((j) => j.num).sort((x, y) => x - y);
      expect(await nums('me', T0 + 500)).toEqual([foreign.num]);
      expect(await nums('me', T0 + 5_000)).toEqual([expired.num, foreign.num]);
      expect(await nums('them', T0 + 500)).toEqual([fresh.num, expired.num, renewed.num]);
      expect(await nums('me', T0 + 60_000)).toEqual([fresh.num, expired.num, foreign.num, renewed.num]);
      const listed = await engine.jobs.withVoidLease('me', T0 + 5_000);
      expect(listed.find((j) => j.num === expired.num)).toEqual(await reload(engine, expired));
    });

    it('keeps the fresh lease of another instance serving the storage (unless it is exclusive), and voids it once that instance left', async () => {
      const other = await opened.another();
      await other.coordination.join();
      const job = await createJob(engine, 'a');
      await claimAt(engine, engine.coordination.clock(), job, other.coordination.id, 60_000);
      const voidNow = async () => (await engine.jobs.withVoidLease(engine.coordination.id, engine.coordination.clock())).map((j) => j.num);
      expect(await voidNow()).toEqual(engine.coordination.exclusive ? [job.num] : []);
      await other.coordination.leave();
      expect(await voidNow()).toEqual([job.num]);
    });

    it('is empty when nothing runs', async () => {
      await createJob(engine, 'a');
      expect(await engine.jobs.withVoidLease('me', T0)).toEqual([]);
    });
  });
});
