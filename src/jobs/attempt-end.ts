import type { WorkerReport } from '../ingest/worker-protocol';
import type { Job } from './model';
import type { JobRegistry } from './registry';
import type { RunningAttempt } from './running-attempt';

/**
 * The transition an attempt's final report asks for, committed; null when it ends nothing (a pause
 * hands the job back, a lost connection queues it again).
 */
export async function endAs(registry: JobRegistry, maxAttempts: number, entry: RunningAttempt, current: Job, report: WorkerReport): Promise<Job | null> {
  // Every row is in once the worker finished: a cancel that came too late does not undo the job.
  if (report.type === 'finished') return registry.complete(current);
  if (report.type === 'failed') return registry.fail(current, report.error);
  // A cancel asked through the store counts as one asked here: its notice may not have reached the worker before a pause did.
  if (report.type === 'cancelled' || entry.cancelRequested || current.cancelRequested) return registry.cancel(current);
  if (report.type === 'paused') {
    await registry.release(current);
    return null;
  }
  if (report.type === 'disconnected') return resumeLater(registry, maxAttempts, entry, current, report.detail);
  if (report.type !== 'crashed') return null;
  entry.log.error({ detail: report.message }, 'ingest crashed');
  return registry.fail(current, { code: 'INTERNAL_ERROR', message: 'the job failed unexpectedly; the error was logged' });
}

/**
 * The attempt lost its connection to the database (a restart, a network cut): nothing of its open
 * batch was written, so the job is queued again to resume from its checkpoint, as after a crash.
 * Null when it was (a later attempt claims it); the failed job after too many attempts without progress.
 */
async function resumeLater(registry: JobRegistry, maxAttempts: number, entry: RunningAttempt, current: Job, detail: string): Promise<Job | null> {
  entry.log.warn({ detail }, 'the attempt lost its connection to the database');
  const outcome = await registry.interrupt(current, 'its connection to the database was lost', maxAttempts);
  return outcome?.status === 'PENDING' ? null : outcome;
}
