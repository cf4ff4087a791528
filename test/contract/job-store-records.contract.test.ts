import { beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/model';
import type { Engine } from '../../src/ports/engine';
import type { WorkspaceLoad } from '../../src/ports/job-store';
import { ENGINES, type OpenedEngine, openForEachTest } from './engines';
import { COLUMNS, createJob, jobOptions, newJob, WORKSPACE } from './fixtures';
import {
  claimAt,
  codes,
  commitRows,
  completeJob,
  counters,
  endJob,
  issue,
  reload,
  settledSink,
  T0,
  visibleCodes,
} from './sink-helpers';

// The JobStore port's contract, creating, reading and deleting jobs and their issues: every engine must pass this suite unchanged.

describe.each(ENGINES)('JobStore contract: $name', (engineUnderTest) => {
  let opened: OpenedEngine;
  let engine: Engine;
  openForEachTest(engineUnderTest, (current) => ({ engine } = opened = current));

  const noLimit = () => {};

  describe('create', () => {
    it('creates a PENDING job as given, and its dataset with the given columns on the first job', async () => {
      const input = newJob({ now: T0, idempotencyKey: 'k1', options: jobOptions({ mode: 'REPLACE', webhookUrl: 'https://example.test/hook' }) });
      const { job, created } = await engine.jobs.create(input, { name: 'people', columns: COLUMNS }, noLimit);
      expect(created).toBe(true);
      expect(job).toMatchObject({
        id: input.id,
        workspace: WORKSPACE,
        status: 'PENDING',
        file: input.file,
        upload: input.upload,
        options: input.options,
        idempotencyKey: 'k1',
        attempts: 0,
        fruitlessAttempts: 0,
        lease: null,
        checkpoint: null,
        error: null,
        startedAt: null,
        completedAt: null,
        createdAt: T0,
        updatedAt: T0,
        progress: counters(),
      });
      const dataset = await engine.datasets.get(WORKSPACE, 'people');
      expect(dataset).toMatchObject({ id: job.datasetId, workspace: WORKSPACE, name: 'people', columns: COLUMNS, rowCount: 0 });
      expect(await engine.jobs.get(job.id)).toEqual(job);
    });

    it('creates a dataset without columns when none are given', async () => {
      const job = await createJob(engine, 'inferred', {}, null);
      expect(await engine.datasets.getById(job.datasetId)).toMatchObject({ name: 'inferred', columns: null, rowCount: 0 });
    });

    it("reuses the workspace's dataset of that name, and leaves its columns as they are", async () => {
      const first = await createJob(engine, 'people');
      const other = [{ name: 'x', type: 'BOOLEAN' as const, required: false }];
      const second = await createJob(engine, 'people', {}, other);
      expect(second.datasetId).toBe(first.datasetId);
      expect(second.num).toBeGreaterThan(first.num);
      expect(second.id).not.toBe(first.id);
      expect((await engine.datasets.list(WORKSPACE)).map((d) => d.name)).toEqual(['people']);
      expect((await engine.datasets.getById(first.datasetId))!.columns).toEqual(COLUMNS);
    });

    it('gives each workspace its own dataset of a name', async () => {
      const mine = await createJob(engine, 'people');
      const theirs = await createJob(engine, 'people', { workspace: 'elsewhere' });
      expect(theirs.datasetId).not.toBe(mine.datasetId);
    });

    it('with an idempotency key used before in the workspace, returns the earlier job and creates nothing', async () => {
      const first = await engine.jobs.create(newJob({ idempotencyKey: 'same', now: T0 }), { name: 'people', columns: COLUMNS }, noLimit);
      const again = await engine.jobs.create(newJob({ idempotencyKey: 'same', now: T0 + 5 }), { name: 'other', columns: COLUMNS }, noLimit);
      expect(again.created).toBe(false);
      expect(again.job).toEqual(first.job);
      expect(await engine.jobs.count({ workspace: WORKSPACE })).toBe(1);
      expect(await engine.datasets.get(WORKSPACE, 'other')).toBeNull();
    });

    it('returns the earlier job for a used key even when the workspace is at its limit now (a retry is no new job)', async () => {
      const first = await engine.jobs.create(newJob({ idempotencyKey: 'same' }), { name: 'people', columns: COLUMNS }, noLimit);
      const again = await engine.jobs.create(newJob({ idempotencyKey: 'same' }), { name: 'people', columns: COLUMNS }, () => {
        throw new Error('limit reached');
      });
      expect(again).toEqual({ job: first.job, created: false });
    });

    it('keeps idempotency keys per workspace', async () => {
      const mine = await createJob(engine, 'people', { idempotencyKey: 'same' });
      const { job, created } = await engine.jobs.create(newJob({ workspace: 'elsewhere', idempotencyKey: 'same' }), { name: 'people', columns: COLUMNS }, noLimit);
      expect(created).toBe(true);
      expect(job.num).not.toBe(mine.num);
    });

    it("shows admit the workspace's load: its pending and running jobs and their uploads' bytes", async () => {
      const loads: WorkspaceLoad[] = [];
      const admit = (load: WorkspaceLoad) => void loads.push(load);
      const create = (size: number, dataset: string, workspace = WORKSPACE) =>
        engine.jobs.create(newJob({ workspace, file: { name: 'f.csv', format: 'CSV', size, sha256: 'b'.repeat(64) } }), { name: dataset, columns: COLUMNS }, admit);
      await create(100, 'a');
      await create(20, 'b');
      await create(3, 'c');
      await create(5000, 'a', 'elsewhere'); // another workspace's load is not this one's
      expect(loads).toEqual([
        { activeJobs: 0, queuedBytes: 0 },
        { activeJobs: 1, queuedBytes: 100 },
        { activeJobs: 2, queuedBytes: 120 },
        { activeJobs: 0, queuedBytes: 0 },
      ]);
      // One running (still counted), one ended (no longer counted).
      const running = await claimAt(engine, T0); // job of 100 bytes
      expect(running.file.size).toBe(100);
      const ended = await claimAt(engine, T0); // job of 20 bytes
      await endJob(engine, ended, 'CANCELLED');
      await create(1, 'd');
      expect(loads.at(-1)).toEqual({ activeJobs: 2, queuedBytes: 103 });
    });

    it('creates nothing, neither job nor dataset, when admit throws', async () => {
      await createJob(engine, 'people');
      const refused = newJob();
      await expect(
        engine.jobs.create(refused, { name: 'fresh', columns: COLUMNS }, () => {
          throw new Error('workspace limit');
        }),
      ).rejects.toThrow('workspace limit');
      expect(await engine.jobs.get(refused.id)).toBeNull();
      expect(await engine.jobs.count({ workspace: WORKSPACE })).toBe(1);
      expect(await engine.datasets.get(WORKSPACE, 'fresh')).toBeNull();
      // The refused job's key and id remain free.
      const { created } = await engine.jobs.create({ ...refused, idempotencyKey: null }, { name: 'fresh', columns: COLUMNS }, noLimit);
      expect(created).toBe(true);
    });

    it('refusing with a used idempotency key does not consume it', async () => {
      await expect(
        engine.jobs.create(newJob({ idempotencyKey: 'k' }), { name: 'people', columns: COLUMNS }, () => {
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      expect(await engine.jobs.findByIdempotencyKey(WORKSPACE, 'k')).toBeNull();
      expect((await engine.jobs.create(newJob({ idempotencyKey: 'k' }), { name: 'people', columns: COLUMNS }, noLimit)).created).toBe(true);
    });
  });

  describe('get, getByNum, findByIdempotencyKey', () => {
    it('find the job by id, by number and by key, and null for what does not exist', async () => {
      const job = await createJob(engine, 'people', { idempotencyKey: 'key-1' });
      expect(await engine.jobs.get(job.id)).toEqual(job);
      expect(await engine.jobs.getByNum(job.num)).toEqual(job);
      expect(await engine.jobs.findByIdempotencyKey(WORKSPACE, 'key-1')).toEqual(job);
      expect(await engine.jobs.get('job_missing')).toBeNull();
      expect(await engine.jobs.getByNum(job.num + 1000)).toBeNull();
      expect(await engine.jobs.findByIdempotencyKey(WORKSPACE, 'key-2')).toBeNull();
      expect(await engine.jobs.findByIdempotencyKey('elsewhere', 'key-1')).toBeNull();
    });

    it('see what another engine on the same storage wrote', async () => {
      const job = await createJob(engine, 'people');
      const other = (await opened.another());
      expect(await other.jobs.get(job.id)).toEqual(job);
    });
  });

  describe('list and count', () => {
    let a1: Job, b1: Job, a2: Job, theirs: Job, a3: Job;

    beforeEach(async () => {
      a1 = await createJob(engine, 'a');
      b1 = await createJob(engine, 'b');
      a2 = await createJob(engine, 'a');
      theirs = await createJob(engine, 'a', { workspace: 'elsewhere' });
      a3 = await createJob(engine, 'a');
      await claimAt(engine, T0, a1); // a1 RUNNING
      await endJob(engine, await claimAt(engine, T0, b1), 'FAILED'); // b1 FAILED
    });

    it("lists the workspace's jobs newest first, up to the limit", async () => {
      expect((await engine.jobs.list({ workspace: WORKSPACE }, 10)).map((j) => j.num)).toEqual([a3.num, a2.num, b1.num, a1.num]);
      expect((await engine.jobs.list({ workspace: WORKSPACE }, 2)).map((j) => j.num)).toEqual([a3.num, a2.num]);
      expect((await engine.jobs.list({ workspace: 'elsewhere' }, 10)).map((j) => j.num)).toEqual([theirs.num]);
      expect(await engine.jobs.list({ workspace: 'nobody' }, 10)).toEqual([]);
    });

    it('pages with beforeNum: strictly older jobs only', async () => {
      const page1 = await engine.jobs.list({ workspace: WORKSPACE }, 2);
      const page2 = await engine.jobs.list({ workspace: WORKSPACE }, 2, page1.at(-1)!.num);
      const page3 = await engine.jobs.list({ workspace: WORKSPACE }, 2, page2.at(-1)!.num);
      expect([...page1, ...page2].map((j) => j.num)).toEqual([a3.num, a2.num, b1.num, a1.num]);
      expect(page3).toEqual([]);
      expect((await engine.jobs.list({ workspace: WORKSPACE }, 10, a2.num)).map((j) => j.num)).toEqual([b1.num, a1.num]);
    });

    it('returns the jobs as stored', async () => {
      const [newest, , failed, running] = await engine.jobs.list({ workspace: WORKSPACE }, 10);
      expect(newest).toEqual(await reload(engine, a3));
      expect(failed.status).toBe('FAILED');
      expect(running.status).toBe('RUNNING');
    });

    it('filters by statuses and by dataset', async () => {
      const nums = async (filter: Parameters<Engine['jobs']['list']>[0]) => (await engine.jobs.list(filter, 10)).map((j) => j.num);
      expect(await nums({ workspace: WORKSPACE, statuses: ['PENDING'] })).toEqual([a3.num, a2.num]);
      expect(await nums({ workspace: WORKSPACE, statuses: ['RUNNING', 'FAILED'] })).toEqual([b1.num, a1.num]);
      expect(await nums({ workspace: WORKSPACE, statuses: ['COMPLETED'] })).toEqual([]);
      expect(await nums({ workspace: WORKSPACE, datasetId: a1.datasetId })).toEqual([a3.num, a2.num, a1.num]);
      expect(await nums({ workspace: WORKSPACE, datasetId: a1.datasetId, statuses: ['PENDING', 'FAILED'] })).toEqual([a3.num, a2.num]);
      // Another workspace's dataset id does not leak its jobs into this workspace.
      expect(await nums({ workspace: WORKSPACE, datasetId: theirs.datasetId })).toEqual([]);
    });

    it('counts what list would return', async () => {
      expect(await engine.jobs.count({ workspace: WORKSPACE })).toBe(4);
      expect(await engine.jobs.count({ workspace: 'elsewhere' })).toBe(1);
      expect(await engine.jobs.count({ workspace: 'nobody' })).toBe(0);
      expect(await engine.jobs.count({ workspace: WORKSPACE, statuses: ['PENDING'] })).toBe(2);
      expect(await engine.jobs.count({ workspace: WORKSPACE, statuses: ['RUNNING', 'FAILED'] })).toBe(2);
      expect(await engine.jobs.count({ workspace: WORKSPACE, datasetId: a1.datasetId })).toBe(3);
      expect(await engine.jobs.count({ workspace: WORKSPACE, datasetId: b1.datasetId, statuses: ['PENDING'] })).toBe(0);
    });

    it('counts the jobs of every workspace by status, leaving out statuses without jobs', async () => {
      expect(await engine.jobs.countByStatus()).toEqual({ PENDING: 3, RUNNING: 1, FAILED: 1 });
    });
  });

  describe('issues and issueCount', () => {
    let job: Job;

    beforeEach(async () => {
      job = await claimAt(engine, T0, await createJob(engine, 'people'));
      const sink = await settledSink(opened, job);
      await commitRows(sink, codes('a'), 1, { issues: [issue(2), issue(3, 'WARNING'), issue(4)], firstIssueIndex: 0 });
      await commitRows(sink, codes('a', 'b'), 2, { issues: [issue(6, 'WARNING'), issue(7)], firstIssueIndex: 3 });
    });

    it('returns the issues in the order they were noted, each with its index', async () => {
      expect(await engine.jobs.issues(job.num, null, 100, -1)).toEqual([
        { index: 0, ...issue(2) },
        { index: 1, ...issue(3, 'WARNING') },
        { index: 2, ...issue(4) },
        { index: 3, ...issue(6, 'WARNING') },
        { index: 4, ...issue(7) },
      ]);
    });

    it('filters by severity and pages by index', async () => {
      expect((await engine.jobs.issues(job.num, 'ERROR', 100, -1)).map((i) => i.index)).toEqual([0, 2, 4]);
      expect((await engine.jobs.issues(job.num, 'WARNING', 100, -1)).map((i) => i.index)).toEqual([1, 3]);
      expect((await engine.jobs.issues(job.num, null, 2, -1)).map((i) => i.index)).toEqual([0, 1]);
      expect((await engine.jobs.issues(job.num, null, 2, 1)).map((i) => i.index)).toEqual([2, 3]);
      expect((await engine.jobs.issues(job.num, 'ERROR', 1, 0)).map((i) => i.index)).toEqual([2]);
      expect(await engine.jobs.issues(job.num, null, 10, 4)).toEqual([]);
    });

    it('counts them, by severity', async () => {
      expect(await engine.jobs.issueCount(job.num, null)).toBe(5);
      expect(await engine.jobs.issueCount(job.num, 'ERROR')).toBe(3);
      expect(await engine.jobs.issueCount(job.num, 'WARNING')).toBe(2);
    });

    it("keeps each job's issues its own", async () => {
      const other = await createJob(engine, 'other');
      expect(await engine.jobs.issues(other.num, null, 10, -1)).toEqual([]);
      expect(await engine.jobs.issueCount(other.num, null)).toBe(0);
    });
  });

  describe('deleteEnded', () => {
    it('deletes jobs that ended before the cutoff, with their issues and deliveries, and returns their upload keys', async () => {
      await engine.webhooks.createEndpoint(WORKSPACE, 'https://example.test/all', ['job.started', 'job.completed', 'job.failed', 'job.cancelled'], T0, () => {});
      const old = await claimAt(engine, T0, await createJob(engine, 'a', { upload: 'upload-old' }));
      await commitRows(await settledSink(opened, old), codes('a'), 1, { issues: [issue(2)] });
      await completeJob(engine, old, T0 + 100);
      const oldCancelled = await endJob(engine, await createJob(engine, 'b', { upload: 'upload-cancelled' }), 'CANCELLED', T0 + 150);
      const recent = await completeJob(engine, await claimAt(engine, T0, await createJob(engine, 'c', { upload: 'upload-recent' })), T0 + 300);
      const running = await claimAt(engine, T0, await createJob(engine, 'd', { upload: 'upload-running' }));
      const waiting = await createJob(engine, 'e', { upload: 'upload-waiting' });
      expect(await engine.webhooks.forJob(old.num)).not.toEqual([]);

      const keys = await engine.jobs.deleteEnded(T0 + 200, 10);
      expect(keys.sort()).toEqual(['upload-cancelled', 'upload-old']);
      expect(await engine.jobs.getByNum(old.num)).toBeNull();
      expect(await engine.jobs.get(oldCancelled.id)).toBeNull();
      expect(await engine.jobs.issues(old.num, null, 10, -1)).toEqual([]);
      expect(await engine.jobs.issueCount(old.num, null)).toBe(0);
      expect(await engine.webhooks.forJob(old.num)).toEqual([]);
      expect(await engine.webhooks.forJob(oldCancelled.num)).toEqual([]);
      for (const kept of [recent, running, waiting]) expect(await engine.jobs.getByNum(kept.num)).not.toBeNull();
      expect(await engine.webhooks.forJob(recent.num)).not.toEqual([]);
      // The dataset's rows are the dataset's: deleting the job that wrote them keeps them.
      expect(await visibleCodes(engine, 'a')).toEqual(['a']);
      expect(await engine.jobs.deleteEnded(T0 + 200, 10)).toEqual([]);
    });

    it('deletes a dataset only dry runs named once no job names it; a dataset a real job named stays', async () => {
      const dry = { options: jobOptions({ dryRun: true }) };
      const lone = await endJob(engine, await createJob(engine, 'tried', dry), 'CANCELLED', T0);
      await endJob(engine, await createJob(engine, 'kept', dry), 'CANCELLED', T0);
      await endJob(engine, await createJob(engine, 'kept', {}, null), 'CANCELLED', T0);
      expect(await engine.datasets.idOf(WORKSPACE, 'tried')).toBe(lone.datasetId);
      await engine.jobs.deleteEnded(T0 + 1, 10);
      expect(await engine.datasets.idOf(WORKSPACE, 'tried')).toBeNull();
      expect(await engine.datasets.getById(lone.datasetId)).toBeNull();
      expect(await engine.datasets.get(WORKSPACE, 'kept')).toMatchObject({ name: 'kept', provisional: false });
    });

    it('deletes at most `limit` jobs a call', async () => {
      for (let i = 0; i < 5; i++) await endJob(engine, await createJob(engine, 'a', { upload: `u${i}` }), 'CANCELLED', T0);
      const first = await engine.jobs.deleteEnded(T0 + 1, 2);
      const second = await engine.jobs.deleteEnded(T0 + 1, 2);
      const third = await engine.jobs.deleteEnded(T0 + 1, 2);
      expect([first.length, second.length, third.length]).toEqual([2, 2, 1]);
      expect([...first, ...second, ...third].sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
      expect(await engine.jobs.count({ workspace: WORKSPACE })).toBe(0);
    });
  });

  describe('a dry run\'s dataset', () => {
    it('is provisional when the dry run names it anew: no columns, not found by name nor listed, until a real job names it', async () => {
      const dry = await createJob(engine, 'trial', { options: jobOptions({ dryRun: true }) });
      expect(dry.options.dryRun).toBe(true);
      expect(await engine.datasets.getById(dry.datasetId)).toMatchObject({ name: 'trial', columns: null, provisional: true });
      expect(await engine.datasets.get(WORKSPACE, 'trial')).toBeNull();
      expect(await engine.datasets.idOf(WORKSPACE, 'trial')).toBe(dry.datasetId);
      expect((await engine.datasets.list(WORKSPACE)).map((d) => d.name)).toEqual([]);
      const again = await createJob(engine, 'trial', { options: jobOptions({ dryRun: true }) });
      expect(again.datasetId).toBe(dry.datasetId);
      expect(await engine.datasets.get(WORKSPACE, 'trial')).toBeNull();

      const real = await createJob(engine, 'trial');
      expect(real.datasetId).toBe(dry.datasetId);
      expect(await engine.datasets.get(WORKSPACE, 'trial')).toMatchObject({ id: dry.datasetId, provisional: false });
      expect((await engine.datasets.list(WORKSPACE)).map((d) => d.name)).toEqual(['trial']);
    });

    it('is the dataset itself when it exists: a dry run changes nothing of it', async () => {
      const real = await createJob(engine, 'people');
      const dry = await createJob(engine, 'people', { options: jobOptions({ dryRun: true }) });
      expect(dry.datasetId).toBe(real.datasetId);
      expect(await engine.datasets.get(WORKSPACE, 'people')).toMatchObject({ columns: COLUMNS, provisional: false });
    });
  });

  describe('uploadKeys', () => {
    it("lists the uploads of waiting and running jobs, and of ended ones too when asked", async () => {
      await claimAt(engine, T0, await createJob(engine, 'b', { upload: 'running' }));
      await completeJob(engine, await claimAt(engine, T0, await createJob(engine, 'c', { upload: 'completed' })));
      await endJob(engine, await createJob(engine, 'd', { upload: 'cancelled' }), 'CANCELLED');
      await createJob(engine, 'a', { upload: 'waiting' });
      await createJob(engine, 'e', { upload: 'theirs', workspace: 'elsewhere' });
      expect(await engine.jobs.uploadKeys(false)).toEqual(new Set(['waiting', 'running', 'theirs']));
      expect(await engine.jobs.uploadKeys(true)).toEqual(new Set(['waiting', 'running', 'theirs', 'completed', 'cancelled']));
    });

    it('is empty without jobs', async () => {
      expect(await engine.jobs.uploadKeys(true)).toEqual(new Set());
    });
  });
});
