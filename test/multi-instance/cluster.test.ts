import { describe, expect } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { CancelJobDocument, DatasetDocument, JobProgressDocument, type JobProgressSubscription, RegisterWebhookDocument } from '../generated/graphql';
import { API_ONLY, type Cluster, clusterTest, health, type Member, waitUntilProcessed } from '../helpers/cluster';
import { PERSON_COLUMNS, peopleFileForSuite } from '../helpers/files';
import { submit } from '../helpers/queries';
import { startReceiver } from '../helpers/receiver';
import { type Received, SubscriptionClient } from '../helpers/subscribe';
import { TERMINAL, until, waitForJob } from '../helpers/server';

// Three service processes (A, B, C) on one PostgreSQL schema: jobs uploaded on one instance run on
// another, subscribers and cancels reach them from a third, webhooks go out once whichever instance
// dispatches them.

/** A job of this file takes a few seconds: jobs uploaded together overlap. */
const ROWS = 20_000;
const people = peopleFileForSuite(ROWS);
/** Long enough to be followed, cancelled, or have its listener killed, while it runs. */
const LONG_ROWS = 300_000;
const longPeople = peopleFileForSuite(LONG_ROWS);

/** A and C serve the API only: every job runs on B, and C hears of it over LISTEN/NOTIFY only. */
const ONLY_B_RUNS = { A: API_ONLY, C: API_ONLY };

/** Uploads `count` people files on `via`, one dataset each; their ids. */
async function submitMany(via: Member, prefix: string, count: number): Promise<string[]> {
  const jobs = await Promise.all(Array.from({ length: count }, (_, i) => submit(via.client, { dataset: `${prefix}-${i}`, columns: PERSON_COLUMNS }, people())));
  return jobs.map((job) => job.id);
}

describe('jobs across instances', () => {
  clusterTest('six jobs uploaded together on A all complete, run by more than one instance', {}, async (cluster) => {
    const ids = await submitMany(cluster.A, 'spread', 6);
    const jobs = await Promise.all(ids.map((id) => waitForJob(cluster.B.client, id, undefined, 90_000)));
    expect(jobs.map((job) => job.status)).toEqual(Array(6).fill('COMPLETED'));
    for (const job of jobs) expect(job.dataset.rowCount).toBe(ROWS);
    const instances = new Set(jobs.map((job) => cluster.byInstance(job.instance).name));
    expect(instances.size, `instances that ran the jobs: ${[...instances]}`).toBeGreaterThan(1);
  });

  clusterTest('a job uploaded on an API-only instance runs on another', { A: API_ONLY }, async (cluster) => {
    expect(await health(cluster.A)).toMatchObject({ status: 'ok', engine: 'postgres', instance: cluster.A.id, runsJobs: false });
    const [id] = await submitMany(cluster.A, 'elsewhere', 1);
    const job = await waitForJob(cluster.A.client, id, undefined, 60_000);
    expect(job).toMatchObject({ status: 'COMPLETED', dataset: { rowCount: ROWS } });
    expect([cluster.B.id, cluster.C.id]).toContain(job.instance);
    expect((await health(cluster.A)).activeJobs).toBe(0);
  });
});

type ProgressEvent = JobProgressSubscription['jobProgress'];

/** Subscribes on `on` to a job's progress over graphql-ws. */
function follow(cluster: Cluster, on: Member, id: string): { received: Received<JobProgressSubscription>; client: SubscriptionClient } {
  const client = new SubscriptionClient(on.url, 'ws', cluster.apiKey);
  return { client, received: client.subscribe(JobProgressDocument, { id }) };
}

/** The events a finished subscription got: no error, completed by the server, sequences increasing, the terminal state last. */
function expectCompleteFeed(received: Received<JobProgressSubscription>, rows: number): ProgressEvent[] {
  expect(received.errors).toEqual([]);
  expect(received.completed).toBe(true);
  const events = received.events.map((event) => event.data.jobProgress);
  const sequences = events.map((event) => event.sequence);
  expect(sequences, 'sequences').toEqual([...new Set(sequences)].sort((a, b) => a - b));
  expect(events.at(-1)).toMatchObject({ status: 'COMPLETED', progress: { processedRows: rows, percent: 100 } });
  expect(events.slice(0, -1).every((event) => !TERMINAL.has(event.status))).toBe(true);
  return events;
}

describe('a subscriber on another instance', () => {
  clusterTest('on C, follows a job uploaded on A and run on B: snapshot, progress, the terminal state, then completes', ONLY_B_RUNS, async (cluster) => {
    const { id } = await submit(cluster.A.client, { dataset: 'followed', columns: PERSON_COLUMNS }, longPeople());
    const { client, received } = follow(cluster, cluster.C, id);
    try {
      await until(async () => received.completed || received.errors.length > 0, Boolean, 'the subscription to end', 90_000);
      const events = expectCompleteFeed(received, LONG_ROWS);
      expect(TERMINAL.has(events[0].status)).toBe(false); // the snapshot, taken while the job was young
      const midway = events.filter((event) => event.status === 'RUNNING' && event.progress.processedRows > 0);
      expect(midway.length, 'progress events while it ran').toBeGreaterThanOrEqual(2);
      expect((await waitForJob(cluster.C.client, id)).instance).toBe(cluster.B.id);
    } finally {
      await client.dispose();
    }
  });

  clusterTest("still gets the terminal state when C's listening connection is killed while the job runs", ONLY_B_RUNS, async (cluster) => {
    const { id } = await submit(cluster.A.client, { dataset: 'listener-killed', columns: PERSON_COLUMNS }, longPeople());
    const { client, received } = follow(cluster, cluster.C, id);
    try {
      await until(async () => received.events.filter((e) => e.data.jobProgress.progress.processedRows > 0).length, (n) => n >= 1, 'progress on C');
      // Killed once mid-job, then again whenever it reconnects until the job has ended: its end is announced while C does not listen.
      let kills = 0;
      await until(
        async () => {
          const [{ killed }] = await cluster.sql<{ killed: number }>(
            'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity WHERE application_name = $1',
            [`sluice/listener/${cluster.C.id}`],
          );
          kills += killed;
          return (await waitForJob(cluster.A.client, id, () => true)).status;
        },
        (status) => TERMINAL.has(status),
        'the job to end',
        90_000,
      );
      expect(kills).toBeGreaterThanOrEqual(1);
      await until(async () => received.completed || received.errors.length > 0, Boolean, 'the subscription to end after the listener came back', 20_000);
      expectCompleteFeed(received, LONG_ROWS);
    } finally {
      await client.dispose();
    }
  });
});

describe('cancel from another instance', () => {
  clusterTest('cancelJob on C stops a job running on B within a second or so; nothing of it shows; B runs the next job', ONLY_B_RUNS, async (cluster) => {
    const { id } = await submit(cluster.A.client, { dataset: 'cancelled', columns: PERSON_COLUMNS }, longPeople());
    const running = await waitUntilProcessed(cluster.A.client, id, LONG_ROWS / 10);
    expect(running.instance).toBe(cluster.B.id);
    const sent = Date.now();
    const answer = await cluster.C.client.request(CancelJobDocument, { id });
    expect(answer.cancelJob.userErrors).toEqual([]);
    const ended = await waitForJob(cluster.C.client, id, undefined, 30_000);
    const tookMs = Date.now() - sent;
    expect(ended).toMatchObject({ status: 'CANCELLED', error: { code: 'CANCELLED' } });
    expect(ended.progress.processedRows, 'it was stopped mid-file').toBeLessThan(LONG_ROWS);
    expect(tookMs, 'from the cancel request to CANCELLED').toBeLessThan(3000);
    const { dataset } = await cluster.A.client.request(DatasetDocument, { name: 'cancelled', first: 1 });
    expect(dataset).toMatchObject({ rowCount: 0, rows: { totalCount: 0, edges: [] } });

    // CANCELLED is committed before the worker's thread has exited; B frees its slot right after.
    await until(() => health(cluster.B), (h) => h.status === 'ok' && h.activeJobs === 0, 'B to free its slot', 5000);
    const [next] = await submitMany(cluster.A, 'after-cancel', 1);
    expect(await waitForJob(cluster.A.client, next, undefined, 60_000)).toMatchObject({ status: 'COMPLETED', instance: cluster.B.id, dataset: { rowCount: ROWS } });
  });
});

/** The receiver's requests as verified events: type, job id and webhook-id. */
function verifiedEvents(requests: Array<{ body: string; headers: Record<string, unknown> }>, secret: string): Array<{ type: string; job: string; webhookId: string }> {
  const verifier = new Webhook(secret);
  return requests.map((request) => {
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(request.headers[name])]));
    const event = verifier.verify(request.body, headers) as { type: string; data: { id: string } };
    return { type: event.type, job: event.data.id, webhookId: headers['webhook-id'] };
  });
}

describe('webhooks from three dispatchers', () => {
  const env = { all: { SLUICE_WEBHOOK_ALLOW_PRIVATE: 'true' } };
  clusterTest('one endpoint, jobs run on several instances: each event delivered exactly once', env, async (cluster) => {
    const receiver = await startReceiver();
    try {
      const { registerWebhook } = await cluster.B.client.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.started', 'job.completed'] });
      expect(registerWebhook.userErrors).toEqual([]);
      const ids = (await Promise.all(cluster.members.map((member) => submitMany(member, `hooked-${member.name}`, 2)))).flat();
      const jobs = await Promise.all(ids.map((id) => waitForJob(cluster.C.client, id, undefined, 90_000)));
      expect(jobs.map((job) => job.status)).toEqual(Array(6).fill('COMPLETED'));
      expect(new Set(jobs.map((job) => job.instance)).size, 'instances that ran the jobs').toBeGreaterThan(1);

      const expected = ids.flatMap((id) => [`job.started ${id}`, `job.completed ${id}`]).sort();
      await until(async () => new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size, (n) => n >= expected.length, 'every event', 30_000);
      // Whatever a second dispatcher might still send would come within the quiet second waited for here.
      await until(async () => [receiver.requests.length, Date.now() - (receiver.requests.at(-1)?.at ?? 0)], ([, quietMs]) => quietMs >= 1000, 'a quiet second');
      const events = verifiedEvents(receiver.requests, registerWebhook.secret!);
      expect(events.map((event) => `${event.type} ${event.job}`).sort()).toEqual(expected);
      expect(new Set(events.map((event) => event.webhookId)).size).toBe(expected.length);
    } finally {
      await receiver.close();
    }
  });
});
