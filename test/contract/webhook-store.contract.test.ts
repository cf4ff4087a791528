import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/webhooks/model';
import { ENGINES } from './engines';
import { WORKSPACE, claim, createJob } from './fixtures';
import { completeJob, deliveryDueAt, freshEngine, ids } from './support-ports';

const failed = (nextAttemptAt: number | null): AttemptOutcome => ({ statusCode: 500, error: 'the receiver answered 500', delivered: false, nextAttemptAt });
const delivered: AttemptOutcome = { statusCode: 204, error: null, delivered: true, nextAttemptAt: null };
const admitAll = () => {};

describe.each(ENGINES)('WebhookStore contract: $name', (spec) => {
  const opened = freshEngine(spec);
  const store = () => opened().engine.webhooks;

  describe('signing secrets', () => {
    it('creates the current secret on first use and keeps it, for every instance on the storage', async () => {
      const secret = await store().currentSecret('ws-a');
      expect(secret).toEqual(expect.any(String));
      expect(secret.length).toBeGreaterThan(0);
      expect(await store().currentSecret('ws-a')).toBe(secret);
      expect(await store().signingSecrets('ws-a', Date.now())).toEqual([secret]);
      expect(await (await opened().another()).webhooks.currentSecret('ws-a')).toBe(secret);
    });

    it('signingSecrets creates the secret on first use too', async () => {
      const [secret, ...rest] = await store().signingSecrets('ws-a', Date.now());
      expect(rest).toEqual([]);
      expect(await store().currentSecret('ws-a')).toBe(secret);
    });

    it('gives each workspace a secret of its own', async () => {
      const a = await store().currentSecret('ws-a');
      const b = await store().currentSecret('ws-b');
      expect(b).not.toBe(a);
    });

    it('rotate returns a new secret; the previous one signs too until previousValidUntil, not after', async () => {
      const T = Date.now();
      const old = await store().currentSecret('ws-a');
      const fresh = await store().rotate('ws-a', T + 1_000);
      expect(fresh).not.toBe(old);
      expect(await store().currentSecret('ws-a')).toBe(fresh);
      expect(await store().signingSecrets('ws-a', T)).toEqual([fresh, old]);
      expect(await store().signingSecrets('ws-a', T + 999)).toEqual([fresh, old]);
      expect(await (await opened().another()).webhooks.signingSecrets('ws-a', T + 999)).toEqual([fresh, old]);
      expect(await store().signingSecrets('ws-a', T + 1_001)).toEqual([fresh]);
      expect(await store().signingSecrets('ws-a', T + 1_000_000)).toEqual([fresh]);
    });

    it('a second rotation ends the first overlap: the first secret no longer signs', async () => {
      const T = Date.now();
      const first = await store().currentSecret('ws-a');
      const second = await store().rotate('ws-a', T + 1_000);
      const third = await store().rotate('ws-a', T + 2_000);
      expect(new Set([first, second, third]).size).toBe(3);
      expect(await store().signingSecrets('ws-a', T)).toEqual([third, second]);
      expect(await store().signingSecrets('ws-a', T + 2_001)).toEqual([third]);
    });

    it('rotating a workspace that never signed makes the returned secret the current one', async () => {
      const T = Date.now();
      const secret = await store().rotate('ws-new', T + 1_000);
      expect(await store().currentSecret('ws-new')).toBe(secret);
      expect((await store().signingSecrets('ws-new', T))[0]).toBe(secret);
      expect(await store().signingSecrets('ws-new', T + 1_001)).toEqual([secret]);
    });

    it('a rotation that gives the previous secret no overlap leaves only the new one', async () => {
      const T = Date.now();
      await store().currentSecret('ws-a');
      const fresh = await store().rotate('ws-a', T - 1);
      expect(await store().signingSecrets('ws-a', T)).toEqual([fresh]);
    });

    it("rotating one workspace's secret leaves the other workspaces' alone", async () => {
      const T = Date.now();
      const a = await store().currentSecret('ws-a');
      const b = await store().currentSecret('ws-b');
      const fresh = await store().rotate('ws-a', T + 1_000);
      expect(await store().currentSecret('ws-b')).toBe(b);
      expect(await store().signingSecrets('ws-b', T)).toEqual([b]);
      expect(await store().signingSecrets('ws-a', T)).toEqual([fresh, a]);
    });
  });

  describe('endpoints', () => {
    it('createEndpoint registers an endpoint with a secret of its own', async () => {
      const T = Date.now();
      const { endpoint, secret } = await store().createEndpoint('ws-a', 'https://a.example.com/hook', ['job.completed', 'job.failed'], T, admitAll);
      expect(endpoint).toEqual({ id: expect.any(String), workspace: 'ws-a', url: 'https://a.example.com/hook', events: ['job.completed', 'job.failed'], disabledAt: null, createdAt: T });
      expect(secret).toEqual(expect.any(String));
      expect(secret.length).toBeGreaterThan(0);
      expect(secret).not.toBe(await store().currentSecret('ws-a'));
      expect(await store().activeEndpointSecret(endpoint.id)).toBe(secret);
      expect(await (await opened().another()).webhooks.activeEndpointSecret(endpoint.id)).toBe(secret);

      const other = await store().createEndpoint('ws-a', 'https://a.example.com/hook', ['job.completed'], T, admitAll);
      expect(other.endpoint.id).not.toBe(endpoint.id);
      expect(other.secret).not.toBe(secret);
    });

    it("admit sees how many endpoints the endpoint's workspace has", async () => {
      const T = Date.now();
      const seen: Array<[string, number]> = [];
      const admit = (workspace: string) => (endpoints: number) => void seen.push([workspace, endpoints]);
      const first = await store().createEndpoint('ws-a', 'https://a.example.com/1', ['job.completed'], T, admit('ws-a'));
      await store().createEndpoint('ws-a', 'https://a.example.com/2', ['job.completed'], T + 1, admit('ws-a'));
      await store().createEndpoint('ws-b', 'https://b.example.com/1', ['job.completed'], T + 2, admit('ws-b'));
      await store().createEndpoint('ws-a', 'https://a.example.com/3', ['job.completed'], T + 3, admit('ws-a'));
      expect(await store().deleteEndpoint('ws-a', first.endpoint.id)).toBe(true);
      await (await opened().another()).webhooks.createEndpoint('ws-a', 'https://a.example.com/4', ['job.completed'], T + 4, admit('ws-a'));
      expect(seen).toEqual([
        ['ws-a', 0],
        ['ws-a', 1],
        ['ws-b', 0],
        ['ws-a', 2],
        ['ws-a', 2],
      ]);
    });

    it('an endpoint that admit refuses is not created, and its error is what createEndpoint throws', async () => {
      const T = Date.now();
      const kept = await store().createEndpoint('ws-a', 'https://a.example.com/1', ['job.completed'], T, admitAll);
      const refusal = new Error('the workspace has too many endpoints');
      await expect(
        store().createEndpoint('ws-a', 'https://a.example.com/2', ['job.completed'], T + 1, () => {
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(await store().endpoints('ws-a')).toEqual([kept.endpoint]);
      let seen: number | undefined;
      await store().createEndpoint('ws-a', 'https://a.example.com/3', ['job.completed'], T + 2, (n) => void (seen = n));
      expect(seen).toBe(1);
    });

    it('admit decides inside the step: concurrent creates from several instances never pass a limit', async () => {
      const T = Date.now();
      const limit = 2;
      const admit = (endpoints: number) => {
        if (endpoints >= limit) throw new Error('limit reached');
      };
      const stores = [store(), (await opened().another()).webhooks, (await opened().another()).webhooks];
      const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => stores[i % stores.length].createEndpoint('ws-a', `https://a.example.com/${i}`, ['job.completed'], T + i, admit)));
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(limit);
      for (const result of results) if (result.status === 'rejected') expect((result.reason as Error).message).toBe('limit reached');
      expect(await store().endpoints('ws-a')).toHaveLength(limit);
    });

    it("endpoints lists the workspace's endpoints in the order they were created, and no other workspace's", async () => {
      const T = Date.now();
      const a1 = await store().createEndpoint('ws-a', 'https://a.example.com/1', ['job.completed'], T, admitAll);
      const a2 = await store().createEndpoint('ws-a', 'https://a.example.com/2', ['job.failed'], T + 1, admitAll);
      const b1 = await store().createEndpoint('ws-b', 'https://b.example.com/1', ['job.completed'], T + 2, admitAll);
      const a3 = await store().createEndpoint('ws-a', 'https://a.example.com/3', ['job.started'], T + 3, admitAll);
      expect(await store().endpoints('ws-a')).toEqual([a1.endpoint, a2.endpoint, a3.endpoint]);
      expect(await store().endpoints('ws-b')).toEqual([b1.endpoint]);
      expect(await store().endpoints('ws-none')).toEqual([]);
      expect(await (await opened().another()).webhooks.endpoints('ws-a')).toEqual([a1.endpoint, a2.endpoint, a3.endpoint]);
    });

    it('activeEndpointSecret is null for an unknown endpoint', async () => {
      expect(await store().activeEndpointSecret('whk_unknown')).toBeNull();
    });

    it("deleteEndpoint deletes the workspace's own endpoint only, once", async () => {
      const T = Date.now();
      const { endpoint, secret } = await store().createEndpoint('ws-a', 'https://a.example.com/1', ['job.completed'], T, admitAll);
      const kept = await store().createEndpoint('ws-a', 'https://a.example.com/2', ['job.completed'], T + 1, admitAll);

      expect(await store().deleteEndpoint('ws-b', endpoint.id)).toBe(false);
      expect(await store().deleteEndpoint('ws-a', 'whk_unknown')).toBe(false);
      expect(await store().endpoints('ws-a')).toEqual([endpoint, kept.endpoint]);
      expect(await store().activeEndpointSecret(endpoint.id)).toBe(secret);

      expect(await store().deleteEndpoint('ws-a', endpoint.id)).toBe(true);
      expect(await store().endpoints('ws-a')).toEqual([kept.endpoint]);
      expect(await store().activeEndpointSecret(endpoint.id)).toBeNull();
      expect(await store().activeEndpointSecret(kept.endpoint.id)).toBe(kept.secret);
      expect(await store().deleteEndpoint('ws-a', endpoint.id)).toBe(false);
      expect(await (await opened().another()).webhooks.deleteEndpoint('ws-a', endpoint.id)).toBe(false);
    });

    it("disableEndpoint marks the endpoint disabled at `now` and its secret inactive, others' untouched", async () => {
      const T = Date.now();
      const { endpoint } = await store().createEndpoint('ws-a', 'https://a.example.com/1', ['job.completed'], T, admitAll);
      const kept = await store().createEndpoint('ws-a', 'https://a.example.com/2', ['job.completed'], T + 1, admitAll);
      await store().disableEndpoint(endpoint.id, T + 50);
      expect(await store().endpoints('ws-a')).toEqual([{ ...endpoint, disabledAt: T + 50 }, kept.endpoint]);
      expect(await store().activeEndpointSecret(endpoint.id)).toBeNull();
      expect(await (await opened().another()).webhooks.activeEndpointSecret(endpoint.id)).toBeNull();
      expect(await store().activeEndpointSecret(kept.endpoint.id)).toBe(kept.secret);
    });
  });

  describe('deliveries', () => {
    it('a job transition writes its deliveries, due at once: get and forJob read them', async () => {
      const T = Date.now();
      const asked = await store().createEndpoint(WORKSPACE, 'https://a.example.com/hook', ['job.completed'], T - 10, admitAll);
      await store().createEndpoint(WORKSPACE, 'https://b.example.com/hook', ['job.failed'], T - 9, admitAll);
      await store().createEndpoint('ws-other', 'https://c.example.com/hook', ['job.completed'], T - 8, admitAll);
      const { job, deliveries } = await completeJob(opened().engine, T, { webhookUrl: 'https://job.example.com/hook' });

      const fields = { jobNum: job.num, workspace: WORKSPACE, event: 'job.completed', payload: expect.any(String), attempts: 0, lastStatusCode: null, lastError: null, deliveredAt: null, nextAttemptAt: T, createdAt: T };
      const byUrl = [...deliveries].sort((a, b) => a.url.localeCompare(b.url));
      expect(byUrl).toEqual([
        { id: expect.any(String), endpointId: asked.endpoint.id, url: 'https://a.example.com/hook', ...fields },
        { id: expect.any(String), endpointId: null, url: 'https://job.example.com/hook', ...fields },
      ]);
      expect(byUrl[0].id).not.toBe(byUrl[1].id);
      for (const delivery of deliveries) {
        expect(JSON.parse(delivery.payload)).toMatchObject({ type: 'job.completed', data: { id: job.id, status: 'COMPLETED' } });
        expect(await store().get(delivery.id)).toEqual(delivery);
        expect(await (await opened().another()).webhooks.get(delivery.id)).toEqual(delivery);
      }
      expect(await (await opened().another()).webhooks.forJob(job.num)).toEqual(deliveries);
    });

    it('get is null for an unknown delivery, forJob empty for a job without any', async () => {
      const job = await createJob(opened().engine);
      expect(await store().get('msg_unknown')).toBeNull();
      expect(await store().forJob(job.num)).toEqual([]);
      expect(await store().forJob(job.num + 1_000)).toEqual([]);
    });

    it("forJob lists a job's deliveries in the order they were written, and no other job's", async () => {
      const engine = opened().engine;
      const { endpoint } = await store().createEndpoint(WORKSPACE, 'https://a.example.com/hook', ['job.started', 'job.completed'], Date.now() - 10, admitAll);
      await createJob(engine, 'people');
      const running = await claim(engine); // writes job.started
      const later = Date.now() + 1_000;
      expect(await engine.jobs.transition(running, 'COMPLETED', { stage: 'done', completedAt: later }, 'publish', later)).not.toBeNull();
      const other = await completeJob(engine, later + 1);

      const deliveries = await store().forJob(running.num);
      expect(deliveries.map((delivery) => [delivery.event, delivery.endpointId])).toEqual([
        ['job.started', endpoint.id],
        ['job.completed', endpoint.id],
      ]);
      expect(deliveries.every((delivery) => delivery.jobNum === running.num)).toBe(true);
      expect(ids(other.deliveries).some((id) => ids(deliveries).includes(id))).toBe(false);
    });

    it("deleteEndpoint stops the endpoint's pending deliveries, no other's, and it gets no new ones", async () => {
      const T = Date.now();
      const gone = await store().createEndpoint(WORKSPACE, 'https://a.example.com/hook', ['job.completed'], T - 10, admitAll);
      const kept = await store().createEndpoint(WORKSPACE, 'https://b.example.com/hook', ['job.completed'], T - 9, admitAll);
      const { deliveries } = await completeJob(opened().engine, T);
      expect(deliveries).toHaveLength(3);
      const stopped = deliveries.find((delivery) => delivery.endpointId === gone.endpoint.id)!;

      expect(await store().deleteEndpoint('ws-other', gone.endpoint.id)).toBe(false);
      expect((await store().get(stopped.id))!.nextAttemptAt).toBe(T);

      expect(await store().deleteEndpoint(WORKSPACE, gone.endpoint.id)).toBe(true);
      expect((await store().get(stopped.id))!.nextAttemptAt).toBeNull();
      const claimed = await store().claimDue(T + 1, T + 1_000, 10);
      expect(ids(claimed).sort()).toEqual(ids(deliveries.filter((delivery) => delivery !== stopped)).sort());

      const next = await completeJob(opened().engine, T + 2);
      expect(next.deliveries.map((delivery) => delivery.endpointId).sort()).toEqual([kept.endpoint.id, null].sort());
    });

    it("disableEndpoint stops the endpoint's pending deliveries, no other's, and it gets no new ones", async () => {
      const T = Date.now();
      const gone = await store().createEndpoint(WORKSPACE, 'https://a.example.com/hook', ['job.completed'], T - 10, admitAll);
      const kept = await store().createEndpoint(WORKSPACE, 'https://b.example.com/hook', ['job.completed'], T - 9, admitAll);
      const { deliveries } = await completeJob(opened().engine, T);
      const stopped = deliveries.find((delivery) => delivery.endpointId === gone.endpoint.id)!;

      await store().disableEndpoint(gone.endpoint.id, T + 1);
      expect((await store().get(stopped.id))!.nextAttemptAt).toBeNull();
      expect(await store().nextDue()).toBe(T);
      const claimed = await store().claimDue(T + 2, T + 1_000, 10);
      expect(ids(claimed).sort()).toEqual(ids(deliveries.filter((delivery) => delivery !== stopped)).sort());

      const next = await completeJob(opened().engine, T + 3);
      expect(next.deliveries.map((delivery) => delivery.endpointId).sort()).toEqual([kept.endpoint.id, null].sort());
    });
  });

  describe('claimDue', () => {
    it('claims only the deliveries due at `now`, in due order, at most `limit`', async () => {
      const T = Date.now();
      const engine = opened().engine;
      // Written out of due order: the claims follow due times, not the order of writing.
      const d3 = await deliveryDueAt(engine, T + 30);
      const d1 = await deliveryDueAt(engine, T + 10);
      const d4 = await deliveryDueAt(engine, T + 40);
      const d2 = await deliveryDueAt(engine, T + 20);

      expect(await store().claimDue(T + 9, T + 1_000, 10)).toEqual([]);
      expect(ids(await store().claimDue(T + 30, T + 1_000, 2))).toEqual([d1.id, d2.id]);
      expect(ids(await store().claimDue(T + 30, T + 1_000, 10))).toEqual([d3.id]);
      expect(await store().claimDue(T + 30, T + 1_000, 10)).toEqual([]);
      expect((await store().get(d4.id))!.nextAttemptAt).toBe(T + 40);
    });

    it('returns the deliveries as they are: attempts so far, url, payload', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      const [claimed] = await store().claimDue(T, T + 100, 10);
      expect(claimed).toMatchObject({ id: d.id, jobNum: d.jobNum, workspace: d.workspace, endpointId: null, url: d.url, event: d.event, payload: d.payload, attempts: 0, deliveredAt: null });
      await store().record(d.id, failed(T + 200), T + 100, T + 1);
      const [again] = await store().claimDue(T + 200, T + 300, 10);
      expect(again).toMatchObject({ id: d.id, attempts: 1, lastStatusCode: 500, lastError: 'the receiver answered 500' });
    });

    it('moves a claimed delivery to `until`: no instance claims it again before then, and it is due again after', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      const other = (await opened().another()).webhooks;

      expect(ids(await store().claimDue(T, T + 1_000, 10))).toEqual([d.id]);
      expect((await store().get(d.id))!.nextAttemptAt).toBe(T + 1_000);
      expect(await store().nextDue()).toBe(T + 1_000);
      expect(await store().claimDue(T + 999, T + 5_000, 10)).toEqual([]);
      expect(await other.claimDue(T + 999, T + 5_000, 10)).toEqual([]);

      // The claim lapsed (its dispatcher died, say): another instance takes it, until a later time.
      expect(ids(await other.claimDue(T + 1_001, T + 5_000, 10))).toEqual([d.id]);
      expect(await store().claimDue(T + 1_002, T + 6_000, 10)).toEqual([]);
      expect(await store().nextDue()).toBe(T + 5_000);
    });

    it('concurrent claims from several instances never return the same delivery twice', async () => {
      const T = Date.now();
      const engine = opened().engine;
      const written: string[] = [];
      for (let i = 0; i < 20; i++) written.push((await deliveryDueAt(engine, T + i)).id);
      const stores = [store(), (await opened().another()).webhooks, (await opened().another()).webhooks];

      const batches = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % stores.length].claimDue(T + 100, T + 10_000, 3)));
      const claimed = batches.flatMap(ids);
      // Whatever a concurrent claim skipped is still there for a later one (bounded: claims that moved nothing would go on forever).
      for (let round = 0; round < 10; round++) {
        const rest = await store().claimDue(T + 100, T + 10_000, 3);
        if (rest.length === 0) break;
        claimed.push(...ids(rest));
      }

      expect(claimed).toHaveLength(new Set(claimed).size);
      expect([...claimed].sort()).toEqual([...written].sort());
      for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(3);
    });
  });

  describe('nextDue', () => {
    it('is the earliest pending due time, claimed ones at their `until`, and null when none is pending', async () => {
      const T = Date.now();
      const engine = opened().engine;
      expect(await store().nextDue()).toBeNull();
      const late = await deliveryDueAt(engine, T + 20);
      expect(await store().nextDue()).toBe(T + 20);
      const early = await deliveryDueAt(engine, T + 10);
      expect(await store().nextDue()).toBe(T + 10);
      expect(await (await opened().another()).webhooks.nextDue()).toBe(T + 10);

      expect(ids(await store().claimDue(T + 10, T + 500, 10))).toEqual([early.id]);
      expect(await store().nextDue()).toBe(T + 20);
      await store().record(early.id, delivered, T + 500, T + 11);
      expect(await store().nextDue()).toBe(T + 20);

      expect(ids(await store().claimDue(T + 20, T + 600, 10))).toEqual([late.id]);
      expect(await store().nextDue()).toBe(T + 600);
      await store().record(late.id, failed(null), T + 600, T + 21); // given up
      expect(await store().nextDue()).toBeNull();
    });
  });

  describe('record', () => {
    it('counts attempts and sets the outcome and the next due time while the claim stands', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      await store().claimDue(T, T + 100, 10);
      await store().record(d.id, failed(T + 1_000), T + 100, T + 1);
      expect(await store().get(d.id)).toMatchObject({ attempts: 1, lastStatusCode: 500, lastError: 'the receiver answered 500', deliveredAt: null, nextAttemptAt: T + 1_000 });
      expect(await store().claimDue(T + 999, T + 2_000, 10)).toEqual([]);

      expect(ids(await store().claimDue(T + 1_000, T + 1_100, 10))).toEqual([d.id]);
      await store().record(d.id, { statusCode: null, error: 'timed out', delivered: false, nextAttemptAt: T + 3_000 }, T + 1_100, T + 1_001);
      expect(await store().get(d.id)).toMatchObject({ attempts: 2, lastStatusCode: null, lastError: 'timed out', deliveredAt: null, nextAttemptAt: T + 3_000 });
    });

    it('a delivered attempt sets deliveredAt and leaves nothing due', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      await store().claimDue(T, T + 100, 10);
      await store().record(d.id, delivered, T + 100, T + 5);
      expect(await store().get(d.id)).toMatchObject({ attempts: 1, lastStatusCode: 204, lastError: null, deliveredAt: T + 5, nextAttemptAt: null });
      expect(await store().nextDue()).toBeNull();
      expect(await store().claimDue(T + 1_000_000, T + 2_000_000, 10)).toEqual([]);
    });

    it('does not undo a redelivery decided during the attempt', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      await store().claimDue(T, T + 100, 10);
      await (await opened().another()).webhooks.redeliver(d.id, T + 50);
      await store().record(d.id, failed(T + 1_000), T + 100, T + 60);
      expect(await store().get(d.id)).toMatchObject({ attempts: 1, nextAttemptAt: T + 50 });
      expect(ids(await store().claimDue(T + 60, T + 200, 10))).toEqual([d.id]);
    });

    it('does not undo a delete of the endpoint decided during the attempt', async () => {
      const T = Date.now();
      const { endpoint } = await store().createEndpoint(WORKSPACE, 'https://a.example.com/hook', ['job.completed'], T - 1, admitAll);
      const { deliveries } = await completeJob(opened().engine, T, { webhookUrl: null });
      expect(deliveries.map((delivery) => delivery.endpointId)).toEqual([endpoint.id]);
      const [d] = deliveries;
      await store().claimDue(T, T + 100, 10);
      expect(await store().deleteEndpoint(WORKSPACE, endpoint.id)).toBe(true);
      expect((await store().get(d.id))!.nextAttemptAt).toBeNull();
      await store().record(d.id, failed(T + 1_000), T + 100, T + 1);
      expect(await store().get(d.id)).toMatchObject({ attempts: 1, nextAttemptAt: null });
      expect(await store().nextDue()).toBeNull();
    });

    it('does not undo a disable of the endpoint decided during the attempt', async () => {
      const T = Date.now();
      const { endpoint } = await store().createEndpoint(WORKSPACE, 'https://a.example.com/hook', ['job.completed'], T - 1, admitAll);
      const [d] = (await completeJob(opened().engine, T, { webhookUrl: null })).deliveries;
      await store().claimDue(T, T + 100, 10);
      await store().disableEndpoint(endpoint.id, T + 1);
      await store().record(d.id, failed(T + 1_000), T + 100, T + 2);
      expect(await store().get(d.id)).toMatchObject({ attempts: 1, nextAttemptAt: null });
      expect(await store().nextDue()).toBeNull();
    });

    it('an attempt whose claim lapsed and was claimed again does not move the new claim', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      const other = (await opened().another()).webhooks;
      await store().claimDue(T, T + 100, 10); // this attempt stalls past its claim
      expect(ids(await other.claimDue(T + 101, T + 500, 10))).toEqual([d.id]);
      await store().record(d.id, failed(T + 150), T + 100, T + 102);
      expect((await store().get(d.id))!.nextAttemptAt).toBe(T + 500);
      expect(await store().claimDue(T + 499, T + 1_000, 10)).toEqual([]);
      await other.record(d.id, failed(T + 2_000), T + 500, T + 103);
      expect(await store().get(d.id)).toMatchObject({ attempts: 2, nextAttemptAt: T + 2_000 });
    });
  });

  describe('redeliver', () => {
    it('makes a delivered delivery due again at `now`', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      await store().claimDue(T, T + 100, 10);
      await store().record(d.id, delivered, T + 100, T + 1);
      expect(await store().nextDue()).toBeNull();

      await (await opened().another()).webhooks.redeliver(d.id, T + 50);
      expect((await store().get(d.id))!.nextAttemptAt).toBe(T + 50);
      expect(await store().nextDue()).toBe(T + 50);
      expect(await store().claimDue(T + 49, T + 200, 10)).toEqual([]);
      expect(ids(await store().claimDue(T + 50, T + 200, 10))).toEqual([d.id]);
    });

    it('makes a delivery waiting for a later retry due now', async () => {
      const T = Date.now();
      const d = await deliveryDueAt(opened().engine, T);
      await store().claimDue(T, T + 100, 10);
      await store().record(d.id, failed(T + 60_000), T + 100, T + 1);
      await store().redeliver(d.id, T + 2);
      expect(ids(await store().claimDue(T + 2, T + 200, 10))).toEqual([d.id]);
    });
  });
});
