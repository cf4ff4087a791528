import { isTerminal, type Job } from '../jobs/model';
import type { Feeds } from './feeds';

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
export function jobFeed(feeds: Feeds, options: FeedOptions): AsyncIterableIterator<Job> {
  const spacingMs = 1000 / options.maxPerSecond;
  const waiting = new Map<string, Job>(); // latest undelivered state per job, in arrival order
  // Per job still running: when its last state went out, and its sequence (older or equal states are dropped).
  const lastDelivered = new Map<string, { at: number; sequence: number }>();
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const unsubscribe = feeds.openFeed(({ job }) => {
    if (closed) return;
    if (!options.accepts(job)) {
      waiting.delete(job.id); // a held state of this job is outdated now, even if the new one is filtered out
      return;
    }
    const held = waiting.get(job.id);
    if ((held && held.sequence >= job.sequence) || job.sequence <= (lastDelivered.get(job.id)?.sequence ?? Number.NEGATIVE_INFINITY)) return;
    waiting.set(job.id, job); // an existing key keeps its place: first in, first out, so no job starves
    wake?.();
  });

  /** The first waiting state that may go now, or how long until one may. */
  const due = (now: number): Job | number => {
    let soonest = Number.POSITIVE_INFINITY;
    for (const job of waiting.values()) {
      const readyAt = isTerminal(job.status) ? 0 : (lastDelivered.get(job.id)?.at ?? Number.NEGATIVE_INFINITY) + spacingMs;
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
          // A terminal job never changes again, so it needs no memory here.
          if (isTerminal(next.status)) lastDelivered.delete(next.id);
          else lastDelivered.set(next.id, { at: now, sequence: next.sequence });
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
