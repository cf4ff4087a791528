import { describe, expect, it } from 'vitest';
import { InProcessEventBus } from '../../src/engines/sqlite/event-bus';
import { Feeds } from '../../src/events/feeds';
import { jobFeed } from '../../src/events/job-feed';
import type { Job } from '../../src/jobs/model';

function job(id: string, sequence: number, status: Job['status'] = 'RUNNING'): Job {
  return { id, sequence, status, workspace: 'default' } as Job;
}

describe('jobFeed', () => {
  it('keeps a job that changes all the time in its place in line, so it is not starved by quieter ones', async () => {
    const bus = new InProcessEventBus();
    const feeds = new Feeds(bus);
    const feed = jobFeed(feeds, { accepts: () => true, maxPerSecond: 20 }); // 50 ms between deliveries per job
    bus.publish({ job: job('busy', 1), kind: 'progress' });
    bus.publish({ job: job('quiet', 1), kind: 'progress' });
    expect((await feed.next()).value.id).toBe('busy');
    expect((await feed.next()).value.id).toBe('quiet');
    // Both wait out their spacing; the busy job changes again after the quiet one did.
    bus.publish({ job: job('busy', 2), kind: 'progress' });
    bus.publish({ job: job('quiet', 2), kind: 'progress' });
    bus.publish({ job: job('busy', 3), kind: 'progress' });
    const next = (await feed.next()).value;
    expect([next.id, next.sequence]).toEqual(['busy', 3]);
    expect((await feed.next()).value).toMatchObject({ id: 'quiet', sequence: 2 });
    await feed.return!();
    expect(feeds.count).toBe(0);
  });

  it('delivers the latest state only, never an older or equal sequence, and a terminal state at once', async () => {
    const bus = new InProcessEventBus();
    const feeds = new Feeds(bus);
    const feed = jobFeed(feeds, { accepts: () => true, maxPerSecond: 1 });
    bus.publish({ job: job('a', 1), kind: 'progress' });
    expect((await feed.next()).value.sequence).toBe(1);
    bus.publish({ job: job('a', 1), kind: 'progress' }); // the same state again
    bus.publish({ job: job('a', 2), kind: 'progress' });
    bus.publish({ job: job('a', 3, 'COMPLETED'), kind: 'transition' });
    const started = Date.now();
    expect((await feed.next()).value).toMatchObject({ sequence: 3, status: 'COMPLETED' });
    expect(Date.now() - started).toBeLessThan(500); // not held back by the 1-per-second spacing
    await feed.return!();
  });

  it('drops a held state when a newer one of the same job is filtered out', async () => {
    const bus = new InProcessEventBus();
    const feeds = new Feeds(bus);
    const feed = jobFeed(feeds, { accepts: (j) => j.status === 'RUNNING', maxPerSecond: 1 });
    bus.publish({ job: job('a', 1), kind: 'progress' });
    expect((await feed.next()).value.sequence).toBe(1);
    bus.publish({ job: job('a', 2), kind: 'progress' }); // held by the spacing
    bus.publish({ job: job('a', 3, 'COMPLETED'), kind: 'transition' }); // filtered out: the held RUNNING is stale
    const next = feed.next();
    const timeout = new Promise((resolve) => setTimeout(() => resolve('nothing'), 1500));
    expect(await Promise.race([next, timeout])).toBe('nothing');
    await feed.return!();
  });
});
