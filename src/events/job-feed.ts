import { isTerminal, type Job } from '../jobs/model';
import type { EventBus } from './bus';

export interface FeedOptions {
  /** Which jobs the subscriber follows. */
  accepts: (job: Job) => boolean;
  /** At most this many deliveries per job and second; a terminal state is delivered at once. */
  maxPerSecond: number;
}

/**
 * One subscriber's view of registry events: for each job it follows, only the latest state waits to
 * be delivered (so a slow reader holds one state per job, never a backlog, and never slows the job
 * or anyone else), and deliveries per job are spaced to the configured rate. It listens from the
 * moment it is created, so a caller can read a snapshot afterwards without missing a change.
 */
export function jobFeed(bus: EventBus, options: FeedOptions): AsyncIterableIterator<Job> {
  const spacingMs = 1000 / options.maxPerSecond;
  const waiting = new Map<string, Job>(); // latest undelivered state per job, in arrival order
  const lastDelivered = new Map<string, number>(); // job id -> time of its last delivery
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const unsubscribe = bus.subscribe(({ job }) => {
    if (closed || !options.accepts(job)) return;
    const held = waiting.get(job.id);
    if (held && held.sequence >= job.sequence) return;
    waiting.delete(job.id); // re-insert: arrival order follows the latest change
    waiting.set(job.id, job);
    wake?.();
  });

  /** The first waiting state that may go now, or how long until one may. */
  const due = (now: number): Job | number => {
    let soonest = Number.POSITIVE_INFINITY;
    for (const job of waiting.values()) {
      const readyAt = isTerminal(job.status) ? 0 : (lastDelivered.get(job.id) ?? Number.NEGATIVE_INFINITY) + spacingMs;
      if (readyAt <= now) return job;
      soonest = Math.min(soonest, readyAt - now);
    }
    return soonest;
  };

  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    waiting.clear();
    if (timer) clearTimeout(timer);
    wake?.();
  };

  return {
    async next(): Promise<IteratorResult<Job>> {
      while (!closed) {
        const now = Date.now();
        const next = due(now);
        if (typeof next !== 'number') {
          waiting.delete(next.id);
          lastDelivered.set(next.id, now);
          return { value: next, done: false };
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (Number.isFinite(next)) timer = setTimeout(resolve, next);
        });
        wake = null;
        if (timer) clearTimeout(timer);
        timer = null;
      }
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<Job>> {
      close();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
