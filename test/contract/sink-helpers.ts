import { expect } from 'vitest';
import type { CellValue } from '../../src/datasets/column-types';
import type { DatasetColumn } from '../../src/datasets/columns';
import type { Checkpoint, Issue, Job, ProgressCounters, RejectedRow } from '../../src/jobs/model';
import type { Engine } from '../../src/ports/engine';
import type { DatasetEffect } from '../../src/ports/job-store';
import type { RowSink } from '../../src/ports/row-sink';
import type { OpenedEngine } from './engines';
import { attemptOf, COLUMNS, WORKSPACE } from './fixtures';

// Helpers of the contract suites, written against the ports only.

/** A fixed clock for the tests that pass `now`: far from Date.now(), so that nothing depends on the wall clock. */
export const T0 = 1_700_000_000_000;

export const LEASE_MS = 60_000;

export function counters(overrides: Partial<ProgressCounters> = {}): ProgressCounters {
  return { processedRows: 0, totalRows: null, rowsWritten: 0, rowsRejected: 0, bytesRead: 0, issueErrors: 0, issueWarnings: 0, ...overrides };
}

export function checkpoint(nextRow: number, issuesStored = 0): Checkpoint {
  return { nextRow, byteOffset: null, extraCellsNoted: false, issuesStored };
}

export function issue(row: number, severity: Issue['severity'] = 'ERROR', code = 'INVALID_VALUE'): Issue {
  return { severity, code, message: `row ${row}: ${code}`, row, column: 'n', value: String(row) };
}

/** Claims the next runnable job at `now`, failing the test when there is none; when `expected` is given, checks it is that job. */
export async function claimAt(engine: Engine, now: number, expected?: Job, owner = 'instance-a', leaseMs = LEASE_MS): Promise<Job> {
  const claimed = await engine.jobs.claimNext({ owner, leaseMs, now });
  if (!claimed) throw new Error('nothing was runnable');
  if (expected) expect(claimed.after.num).toBe(expected.num);
  return claimed.after;
}

/** The job as stored now. */
export async function reload(engine: Engine, job: Job): Promise<Job> {
  const current = await engine.jobs.getByNum(job.num);
  if (!current) throw new Error(`job ${job.num} is gone`);
  return current;
}

/** Rows of COLUMNS (code STRING unique, n INTEGER). */
export function codes(...values: string[]): CellValue[][] {
  return values.map((code, i) => [code, i + 1]);
}

/** Opens the sink of a claimed job's attempt and settles `shape`. */
export async function settledSink(opened: OpenedEngine, job: Job, shape: readonly DatasetColumn[] = COLUMNS, leaseMs = LEASE_MS): Promise<RowSink> {
  const sink = await opened.worker.openSink(attemptOf(job, leaseMs));
  await sink.settle(shape);
  return sink;
}

/** Commits `rows` as one batch whose counters say the job has now written `written` rows in all. */
export async function commitRows(
  sink: RowSink,
  rows: CellValue[][],
  written: number,
  extra: { issues?: Issue[]; firstIssueIndex?: number; rejectedRows?: RejectedRow[]; checkpoint?: Checkpoint; stage?: string } = {},
): Promise<void> {
  const issues = extra.issues ?? [];
  await sink.commit({
    rows,
    issues,
    firstIssueIndex: extra.firstIssueIndex ?? 0,
    rejectedRows: extra.rejectedRows ?? [],
    progress: {
      counters: counters({
        processedRows: written + issues.length,
        rowsWritten: written,
        rowsRejected: issues.filter((i) => i.severity === 'ERROR').length,
        issueErrors: issues.filter((i) => i.severity === 'ERROR').length,
        issueWarnings: issues.filter((i) => i.severity === 'WARNING').length,
        bytesRead: written * 10,
      }),
      checkpoint: extra.checkpoint ?? checkpoint(written + 1, issues.length),
      stage: extra.stage,
    },
  });
}

/** Moves the job, as stored now, to COMPLETED with its rows published. */
export async function completeJob(engine: Engine, job: Job, now = T0): Promise<Job> {
  const current = await reload(engine, job);
  const moved = await engine.jobs.transition(current, 'COMPLETED', { stage: 'done', completedAt: now }, 'publish', now);
  if (!moved) throw new Error(`job ${job.num} could not complete`);
  return moved;
}

/** Ends the job, as stored now, as FAILED or CANCELLED, abandoning its rows. */
export async function endJob(engine: Engine, job: Job, to: 'FAILED' | 'CANCELLED' = 'FAILED', now = T0): Promise<Job> {
  const current = await reload(engine, job);
  const moved = await engine.jobs.transition(current, to, { stage: to.toLowerCase(), completedAt: now, error: { code: to === 'FAILED' ? 'BROKEN' : 'CANCELLED', message: 'ended by the test' } }, 'abandon', now);
  if (!moved) throw new Error(`job ${job.num} could not end`);
  return moved;
}

/** Puts the running job, as stored now, back in the queue (an interrupted attempt) with `effect`. */
export async function requeue(engine: Engine, job: Job, effect: DatasetEffect = null, now = T0): Promise<Job> {
  const current = await reload(engine, job);
  const moved = await engine.jobs.transition(current, 'PENDING', { stage: 'queued', fruitlessAttempts: 0 }, effect, now);
  if (!moved) throw new Error(`job ${job.num} could not go back to the queue`);
  return moved;
}

/** Claims `job` (the next runnable), writes `rows` in one batch and completes it. */
export async function ingest(opened: OpenedEngine, job: Job, rows: CellValue[][], shape: readonly DatasetColumn[] = COLUMNS): Promise<Job> {
  const running = await claimAt(opened.engine, T0, job);
  const sink = await settledSink(opened, running, shape);
  await commitRows(sink, rows, rows.length);
  await sink.close();
  return completeJob(opened.engine, running);
}

/** The values of the dataset's visible rows, in row order. */
export async function visible(engine: Engine, dataset: string, workspace = WORKSPACE): Promise<Array<Record<string, CellValue>>> {
  const stored = await engine.datasets.get(workspace, dataset);
  if (!stored) throw new Error(`no dataset ${dataset}`);
  return (await engine.datasets.rows(stored, 0, 10_000)).map((row) => row.values);
}

/** The visible `code` values of a COLUMNS dataset. */
export async function visibleCodes(engine: Engine, dataset: string): Promise<CellValue[]> {
  return (await visible(engine, dataset)).map((values) => values.code);
}

export async function rowCount(engine: Engine, dataset: string, workspace = WORKSPACE): Promise<number> {
  return (await engine.datasets.get(workspace, dataset))!.rowCount;
}

/** Runs purge steps until the store says nothing is left (bounded, so a store that never says so fails the test). */
export async function purgeAll(engine: Engine, maxRows = 1000): Promise<number[]> {
  const steps: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const purged = await engine.datasets.purgeStep(maxRows);
    if (purged === 0) return steps;
    steps.push(purged);
  }
  throw new Error('purgeStep never returned 0');
}
