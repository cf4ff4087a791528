import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/model';
import type { JobChanged } from '../../src/ports/event-bus';
import { ENGINES } from './engines';
import { claim, createJob } from './fixtures';
import { freshEngine, waitUntil } from './support-ports';

/** What a received event is, compared across engines that may carry events over a connection. */
const seen = (events: readonly JobChanged[]) => events.map((event) => `${event.kind}:${event.job.id}:${event.job.status}`);

describe.each(ENGINES)('EventBus contract: $name', (spec) => {
  const opened = freshEngine(spec);
  const bus = () => opened().engine.events;

  /** Three committed changes to publish: two jobs created, the first one claimed. */
  async function changes(): Promise<JobChanged[]> {
    const engine = opened().engine;
    const first = await createJob(engine, 'people');
    const second = await createJob(engine, 'places');
    const running: Job = await claim(engine);
    expect(running.id).toBe(first.id);
    return [
      { job: first, kind: 'created' },
      { job: second, kind: 'created' },
      { job: running, kind: 'transition' },
    ];
  }

  it('publish reaches every subscriber, each in publish order', async () => {
    const events = await changes();
    const a: JobChanged[] = [];
    const b: JobChanged[] = [];
    bus().subscribe((event) => a.push(event));
    bus().subscribe((event) => b.push(event));
    for (const event of events) await bus().publish(event);
    await waitUntil(() => a.length >= events.length && b.length >= events.length);
    expect(seen(a)).toEqual(seen(events));
    expect(seen(b)).toEqual(seen(events));
    expect(a).toEqual(events);
    expect(b).toEqual(events);
  });

  it('publishing with no subscriber does nothing', async () => {
    const [event] = await changes();
    await expect(bus().publish(event)).resolves.toBeUndefined();
  });

  it('unsubscribing stops delivery to that listener only', async () => {
    const [e1, e2, e3] = await changes();
    const kept: JobChanged[] = [];
    const dropped: JobChanged[] = [];
    bus().subscribe((event) => kept.push(event));
    const unsubscribe = bus().subscribe((event) => dropped.push(event));
    await bus().publish(e1);
    await waitUntil(() => kept.length >= 1 && dropped.length >= 1);

    unsubscribe();
    await bus().publish(e2);
    await bus().publish(e3);
    await waitUntil(() => kept.length >= 3);
    expect(seen(kept)).toEqual(seen([e1, e2, e3]));
    expect(seen(dropped)).toEqual(seen([e1]));
  });

  it('a listener that subscribes later receives no earlier event', async () => {
    const [e1, e2, e3] = await changes();
    const early: JobChanged[] = [];
    bus().subscribe((event) => early.push(event));
    await bus().publish(e1);
    await bus().publish(e2);
    await waitUntil(() => early.length >= 2);

    const late: JobChanged[] = [];
    bus().subscribe((event) => late.push(event));
    await bus().publish(e3);
    // Each listener gets events in publish order: once e3 has arrived, nothing earlier can follow it.
    await waitUntil(() => late.length >= 1 && early.length >= 3);
    expect(seen(late)).toEqual(seen([e3]));
    expect(seen(early)).toEqual(seen([e1, e2, e3]));
  });
});
