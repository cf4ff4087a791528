import { isTerminal, type Job } from '../jobs/model';
import type { Feeds } from './feeds';

export interface FeedOptions {
  /** Which jobs the subscriber follows. */
  accepts: (job: Job) => boolean;
  /** At most this many deliveries per job and second; a terminal state is delivered at once. */
  maxPerSecond: number;
}

/**
 * How long a feed remembers a job whose terminal state it delivered: notices of that job still on
 * their way (another instance's, re-read as the job is now) must not deliver the end a second time.
 */
const ENDED_MEMORY_MS = 60_000;

/**
 * For each job a subscriber follows, the latest state not yet delivered, and when states may go:
 * a job's deliveries are at least `spacingMs` apart, except its terminal state, which goes at once.
 */
class DeliveryQueue {
  private readonly waiting = new Map<string, Job>(); // latest undelivered state per job, in arrival order
  // Per job still running: when its last state went out, and its sequence (older or equal states are dropped).
  private readonly lastDelivered = new Map<string, { at: number; sequence: number }>();
  // Jobs whose terminal state went out, and when, oldest first; forgotten after ENDED_MEMORY_MS.
  private readonly ended = new Map<string, number>();

  constructor(private readonly spacingMs: number) {}

  /** Holds `job` unless it ended already or a state of it as new or newer is held or was delivered; whether it was held. */
  hold(job: Job): boolean {
    const held = this.waiting.get(job.id);
    if (this.ended.has(job.id) || (held && held.sequence >= job.sequence)) return false;
    if (job.sequence <= (this.lastDelivered.get(job.id)?.sequence ?? Number.NEGATIVE_INFINITY)) return false;
    this.waiting.set(job.id, job); // an existing key keeps its place: first in, first out, so no job starves
    return true;
  }

  /** Drops the state held for a job, if any. */
  drop(jobId: string): void {
    this.waiting.delete(jobId);
  }

  clear(): void {
    this.waiting.clear();
    this.ended.clear();
  }

  /** The first waiting state that may go now, taken as delivered at `now`; or how long until one may. */
  takeDue(now: number): Job | number {
    const next = this.due(now);
    if (typeof next === 'number') return next;
    this.waiting.delete(next.id);
    this.forgetEndedBefore(now - ENDED_MEMORY_MS);
    if (isTerminal(next.status)) {
      this.lastDelivered.delete(next.id);
      this.ended.set(next.id, now);
    } else this.lastDelivered.set(next.id, { at: now, sequence: next.sequence });
    return next;
  }

  private forgetEndedBefore(cutoff: number): void {
    for (const [id, at] of this.ended) {
      if (at >= cutoff) return;
      this.ended.delete(id);
    }
  }

  private due(now: number): Job | number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const job of this.waiting.values()) {
      const readyAt = isTerminal(job.status) ? 0 : (this.lastDelivered.get(job.id)?.at ?? Number.NEGATIVE_INFINITY) + this.spacingMs;
      if (readyAt <= now) return job;
      soonest = Math.min(soonest, readyAt - now);
    }
    return soonest;
  }
}

/**
 * One subscriber's view of registry events: for each job it follows, only the latest state waits to
 * be delivered (so a slow reader holds one state per job, never a backlog, and never slows the job
 * or anyone else), and deliveries per job are spaced to the configured rate. It listens from the
 * moment it is created, so a caller can read a snapshot afterwards without missing a change.
 */
export function jobFeed(feeds: Feeds, options: FeedOptions): AsyncIterableIterator<Job> {
  const queue = new DeliveryQueue(1000 / options.maxPerSecond);
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const unsubscribe = feeds.openFeed(({ job }) => {
    if (closed) return;
    if (!options.accepts(job)) {
      queue.drop(job.id); // a held state of this job is outdated now, even if the new one is filtered out
      return;
    }
    if (queue.hold(job)) wake?.();
  });

  /** Waits `ms` (forever when infinite), or until a new state or close() wakes the reader. */
  const sleep = async (ms: number) => {
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (Number.isFinite(ms)) timer = setTimeout(resolve, ms);
    });
    wake = null;
    if (timer) clearTimeout(timer);
    timer = null;
  };

  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    queue.clear();
    if (timer) clearTimeout(timer);
    wake?.();
  };

  return {
    async next(): Promise<IteratorResult<Job>> {
      while (!closed) {
        const next = queue.takeDue(Date.now());
        if (typeof next !== 'number') return { value: next, done: false };
        await sleep(next);
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
