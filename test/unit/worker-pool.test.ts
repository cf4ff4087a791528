import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type AttemptThread, IngestWorkerPool } from '../../src/ingest/worker-pool';
import type { IngestTask } from '../../src/ingest/task';
import type { WorkerReport } from '../../src/ingest/worker-protocol';

// The pool's bookkeeping around threads that die, with stand-in threads that speak the ingest
// protocol: a task whose path is `crash` kills its thread mid-attempt (as an uncaught error or an
// exhausted heap would), any other finishes. The real thread, and a thread ended by a hard stop, are
// exercised by test/e2e/worker-pool.test.ts.

const STAND_IN = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ type, task }) => {
  if (type !== 'run') return;
  if (task.path === 'crash') setImmediate(() => { throw new Error('the thread crashed'); });
  else { parentPort.postMessage({ type: 'finished' }); parentPort.postMessage({ type: 'idle' }); }
});
parentPort.postMessage({ type: 'ready' });
`;
/** A stand-in thread that fails as its code loads. */
const BROKEN = `throw new Error('a thread of another build');`;

const log = pino({ level: 'silent' });
const task = (path: string) => ({ path, leaseToken: path }) as IngestTask;

/** Runs `use` with a started pool of `size` stand-in threads running `code`, and every thread it spawned; closes the pool after. */
async function withPool(code: string, size: number, use: (pool: IngestWorkerPool, spawned: Worker[]) => Promise<void>): Promise<void> {
  const spawned: Worker[] = [];
  const spawn = () => {
    const worker = new Worker(code, { eval: true });
    spawned.push(worker);
    return worker;
  };
  const pool = new IngestWorkerPool({ size, engine: { engine: 'none' }, aliveIntervalMs: 1000, log, spawn });
  pool.start();
  try {
    await use(pool, spawned);
  } finally {
    await pool.close();
  }
}

/** The code an attempt or a thread exits with (events.once would reject on the error that comes first). */
const exitOf = (emitter: AttemptThread | Worker) => new Promise<number>((resolve) => emitter.once('exit', resolve));

/** The attempt's reports, and the code it ended with on its thread. */
async function outcome(attempt: AttemptThread): Promise<{ reports: WorkerReport['type'][]; code: number }> {
  const reports: WorkerReport['type'][] = [];
  attempt.on('message', (report) => reports.push(report.type));
  attempt.on('error', () => reports.push('crashed'));
  return { reports, code: await exitOf(attempt) };
}

const threadsReady = (spawned: Worker[]) => Promise.all(spawned.map((worker) => new Promise((resolve) => worker.once('message', resolve))));

describe('the pool of ingest threads', () => {
  it('runs attempts one after another on its started threads, and replaces a thread that crashed in an attempt; the next attempt completes', async () => {
    await withPool(STAND_IN, 1, async (pool, spawned) => {
      await threadsReady(spawned);
      expect(await outcome(pool.run(task('one'), log))).toEqual({ reports: ['finished'], code: 0 });
      expect(await outcome(pool.run(task('two'), log))).toEqual({ reports: ['finished'], code: 0 });
      expect(spawned).toHaveLength(1);

      const crashed = await outcome(pool.run(task('crash'), log));
      expect(crashed.reports).toEqual(['crashed']);
      expect(crashed.code).not.toBe(0);
      expect(spawned).toHaveLength(2); // replaced as soon as it exited
      expect(await outcome(pool.run(task('three'), log))).toEqual({ reports: ['finished'], code: 0 });
      expect(spawned).toHaveLength(2);
    });
  });

  it('gives a job beyond its threads a thread of its own, ended after it', async () => {
    await withPool(STAND_IN, 0, async (pool, spawned) => {
      expect(spawned).toHaveLength(0);
      expect(await outcome(pool.run(task('one'), log))).toEqual({ reports: ['finished'], code: 0 });
      await exitOf(spawned[0]);
    });
  });

  it('does not restart, again and again, threads that fail as they load: the attempt given one ends as a crash', async () => {
    await withPool(BROKEN, 2, async (pool, spawned) => {
      await Promise.all(spawned.map(exitOf));
      expect(spawned).toHaveLength(2);
      const attempt = await outcome(pool.run(task('one'), log));
      expect(attempt.reports).toEqual(['crashed']);
      expect(attempt.code).not.toBe(0);
      expect(spawned).toHaveLength(3);
    });
  });
});
