import { join } from 'node:path';
import { print } from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobDocument, JobProgressDocument, type JobProgressSubscription, JobUpdatesDocument, type JobUpdatesSubscription } from '../generated/graphql';
import { PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv, writeText } from '../helpers/files';
import { ingest, submit } from '../helpers/queries';
import { openSubscriptions, startServer, type TestServer, until, waitForJob } from '../helpers/server';
import { SubscriptionClient, type Transport } from '../helpers/subscribe';

type ProgressEvent = JobProgressSubscription['jobProgress'];

let server: TestServer;
let bigCsv: string;
const EVENTS_PER_SECOND = 4;

beforeAll(async () => {
  server = await startServer({ subscriptionEventsPerSecond: EVENTS_PER_SECOND, batchRows: 500, progressIntervalMs: 20 });
  bigCsv = join(await tempDir(), 'people.csv');
  await writeGeneratedCsv(bigCsv, PERSON_HEADER, 150_000, personLine);
});
afterAll(async () => {
  await server?.stop();
});

function sequencesOf(events: Array<{ data: { jobProgress: ProgressEvent } }>): number[] {
  return events.map((event) => event.data.jobProgress.sequence);
}

describe.each<Transport>(['ws', 'sse'])('jobProgress over %s', (transport) => {
  it('sends the snapshot first, then rate-limited changes with growing sequence, the terminal state last, then completes', async () => {
    const client = new SubscriptionClient(server.url, transport, server.apiKey);
    try {
      const job = await submit(server.client, { dataset: `progress-${transport}`, columns: PERSON_COLUMNS }, bigCsv);
      const received = client.subscribe(JobProgressDocument, { id: job.id });
      await received.done;
      expect(received.errors).toEqual([]);
      expect(received.completed).toBe(true);
      const events = received.events.map((event) => event.data.jobProgress);
      expect(events.length).toBeGreaterThanOrEqual(3);
      expect(events[0].status).not.toBe('COMPLETED'); // the snapshot, taken while the job was young
      const sequences = sequencesOf(received.events);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(sequences.length);
      const last = events[events.length - 1];
      expect(last).toMatchObject({ status: 'COMPLETED', progress: { processedRows: 150_000, percent: 100 } });
      expect(events.slice(0, -1).every((event) => event.status !== 'COMPLETED')).toBe(true);
      // Coalescing: the job committed progress every few milliseconds; the client got at most the rate.
      const changes = received.events.slice(1, -1);
      if (changes.length > 1) {
        const seconds = (changes[changes.length - 1].at - changes[0].at) / 1000;
        expect(changes.length - 1).toBeLessThanOrEqual(Math.ceil(seconds * EVENTS_PER_SECOND) + 1);
      }
    } finally {
      await client.dispose();
    }
  });

  it('resumes with afterSequence: no duplicate snapshot, and the end is not missed', async () => {
    const client = new SubscriptionClient(server.url, transport, server.apiKey);
    try {
      const job = await ingest(server.client, { dataset: `resume-${transport}` }, await writeText('small.csv', 'a,b\n1,2\n'));
      expect(job.status).toBe('COMPLETED');
      const seen = client.subscribe(JobProgressDocument, { id: job.id, afterSequence: job.sequence });
      await seen.done;
      expect(seen).toMatchObject({ completed: true, errors: [], events: [] });
      const missed = client.subscribe(JobProgressDocument, { id: job.id, afterSequence: job.sequence - 1 });
      await missed.done;
      expect(missed.completed).toBe(true);
      expect(missed.events.map((event) => event.data.jobProgress)).toEqual([expect.objectContaining({ status: 'COMPLETED', sequence: job.sequence })]);
    } finally {
      await client.dispose();
    }
  });

  it('answers an unknown id with a NOT_FOUND error', async () => {
    const client = new SubscriptionClient(server.url, transport, server.apiKey);
    try {
      const received = client.subscribe(JobProgressDocument, { id: 'job_00000000-0000-0000-0000-000000000000' });
      await received.done;
      expect(received.events).toEqual([]);
      expect(received.errors).toEqual([expect.objectContaining({ message: 'no such job', extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    } finally {
      await client.dispose();
    }
  });
});

describe('many subscribers', () => {
  it('delivers the terminal state to 200 WebSocket subscribers of one job', async () => {
    const clients = Array.from({ length: 20 }, () => new SubscriptionClient(server.url, 'ws', server.apiKey));
    try {
      const job = await submit(server.client, { dataset: 'fan-out', columns: PERSON_COLUMNS }, bigCsv);
      const subscriptions = Array.from({ length: 200 }, (_, i) => clients[i % clients.length].subscribe(JobProgressDocument, { id: job.id }));
      await Promise.all(subscriptions.map((s) => s.done));
      const finished = await waitForJob(server.client, job.id);
      for (const subscription of subscriptions) {
        expect(subscription.completed).toBe(true);
        expect(subscription.events.at(-1)!.data.jobProgress.status).toBe('COMPLETED');
      }
      const lastArrival = Math.max(...subscriptions.map((s) => s.events.at(-1)!.at));
      // Generous here; npm run bench reports the figure.
      expect(lastArrival - Date.parse(finished.completedAt!)).toBeLessThan(5000);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  it('frees a subscription as soon as its client disconnects mid-job', async () => {
    const baseline = await openSubscriptions(server);
    const client = new SubscriptionClient(server.url, 'ws', server.apiKey);
    const job = await submit(server.client, { dataset: 'disconnect', columns: PERSON_COLUMNS }, bigCsv);
    const received = client.subscribe(JobProgressDocument, { id: job.id });
    await until(async () => received.events.length, (count) => count >= 1, 'the first event');
    expect(await openSubscriptions(server)).toBe(baseline + 1);
    await client.dispose();
    await until(() => openSubscriptions(server), (count) => count === baseline, 'the subscription to be freed', 5000);
    expect((await waitForJob(server.client, job.id)).status).toBe('COMPLETED');
  });
});

describe('closing and resuming edge cases', () => {
  it('frees the subscription of a client that leaves while its job waits, before the job changes again', async () => {
    const queued = await startServer({ maxConcurrentJobs: 1 });
    const client = new SubscriptionClient(queued.url, 'ws', queued.apiKey);
    try {
      const feeds = () => openSubscriptions(queued);
      const blocker = await submit(queued.client, { dataset: 'blocker', columns: PERSON_COLUMNS }, bigCsv);
      const waiting = await submit(queued.client, { dataset: 'waiting' }, await writeText('w.csv', 'a\n1\n'));
      const received = client.subscribe(JobProgressDocument, { id: waiting.id });
      await until(async () => received.events.length, (count) => count === 1, 'the PENDING snapshot');
      expect(received.events[0].data.jobProgress.status).toBe('PENDING');
      expect(await feeds()).toBe(1);
      await client.dispose();
      await until(feeds, (count) => count === 0, 'the subscription to be freed while the job still waits', 3000);
      expect((await queued.client.request(JobDocument, { id: waiting.id })).job!.status).toBe('PENDING');
      await waitForJob(queued.client, blocker.id);
    } finally {
      await client.dispose();
      await queued.stop();
    }
  });

  it('completes at the terminal state even when afterSequence is ahead of the job', async () => {
    const client = new SubscriptionClient(server.url, 'ws', server.apiKey);
    try {
      const job = await submit(server.client, { dataset: 'ahead', columns: PERSON_COLUMNS }, bigCsv);
      const received = client.subscribe(JobProgressDocument, { id: job.id, afterSequence: 1_000_000 });
      await received.done;
      expect(received.completed).toBe(true);
      expect(received.events).toEqual([]);
      expect((await waitForJob(server.client, job.id)).status).toBe('COMPLETED');
    } finally {
      await client.dispose();
    }
  });

  it('fails an operation with a syntax error without closing the connection', async () => {
    const client = new SubscriptionClient(server.url, 'ws', server.apiKey);
    try {
      const broken = client.subscribe({ kind: 'Document', definitions: [] } as never, {});
      await broken.done;
      expect(broken.errors.length).toBeGreaterThan(0);
      const job = await ingest(server.client, { dataset: 'after-syntax-error' }, await writeText('s.csv', 'a\n1\n'));
      const working = client.subscribe(JobProgressDocument, { id: job.id });
      await working.done;
      expect(working.completed).toBe(true);
      expect(working.events.map((event) => event.data.jobProgress.status)).toEqual(['COMPLETED']);
    } finally {
      await client.dispose();
    }
  });
});

describe('keep-alive', () => {
  it('drops a WebSocket client that stops answering pings, freeing its subscription', async () => {
    const pinging = await startServer({ websocketKeepAliveMs: 200 });
    try {
      const baseline = await openSubscriptions(pinging);
      // A graphql-transport-ws client whose socket never answers pings, as a dead peer would not.
      const socket = new WebSocket(pinging.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { autoPong: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${pinging.apiKey}` } })));
        socket.once('message', () => resolve());
        socket.once('error', reject);
      });
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { jobUpdates { id } }' } }));
      const subscriptions = () => openSubscriptions(pinging);
      await until(subscriptions, (count) => count === baseline + 1, 'the subscription');
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await closed;
      await until(subscriptions, (count) => count === baseline, 'the subscription to be freed', 5000);
    } finally {
      await pinging.stop();
    }
  });
});

describe('a subscriber that never reads', () => {
  it('does not hold up the job or the other subscribers', async () => {
    // A raw graphql-transport-ws client that subscribes, then stops reading its socket.
    const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.apiKey}` } })));
      socket.once('message', (message) => (JSON.parse(String(message)).type === 'connection_ack' ? resolve() : reject(new Error(String(message)))));
      socket.once('error', reject);
    });
    const reader = new SubscriptionClient(server.url, 'ws', server.apiKey);
    try {
      const job = await submit(server.client, { dataset: 'never-reads', columns: PERSON_COLUMNS }, bigCsv);
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: print(JobProgressDocument), variables: { id: job.id } } }));
      (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const received = reader.subscribe(JobProgressDocument, { id: job.id });
      await received.done;
      const finished = await waitForJob(server.client, job.id);
      expect(finished.status).toBe('COMPLETED');
      expect(received.events.at(-1)!.data.jobProgress.status).toBe('COMPLETED');
      expect(received.events.at(-1)!.at - Date.parse(finished.completedAt!)).toBeLessThan(2000);
    } finally {
      socket.terminate();
      await reader.dispose();
    }
  });
});

describe('jobUpdates', () => {
  it('streams changes of the workspace jobs, filtered by status', async () => {
    const client = new SubscriptionClient(server.url, 'ws', server.apiKey);
    try {
      const completedOnly = client.subscribe(JobUpdatesDocument, { status: ['COMPLETED'] });
      const everything = client.subscribe(JobUpdatesDocument, {});
      // graphql-ws sends the subscriptions once connected; wait until the server holds both.
      await until(() => openSubscriptions(server), (count) => count >= 2, 'both subscriptions');
      const first = await ingest(server.client, { dataset: 'updates-1' }, await writeText('u1.csv', 'a\n1\n'));
      const second = await ingest(server.client, { dataset: 'updates-2' }, await writeText('u2.csv', 'a\n2\n'));
      await until(async () => completedOnly.events.length, (count) => count >= 2, 'two COMPLETED updates');
      const updates = (events: Array<{ data: JobUpdatesSubscription }>) => events.map((event) => event.data.jobUpdates);
      expect(updates(completedOnly.events).map((job) => [job.id, job.status])).toEqual([
        [first.id, 'COMPLETED'],
        [second.id, 'COMPLETED'],
      ]);
      await until(async () => updates(everything.events).filter((job) => job.status === 'COMPLETED').length, (count) => count >= 2, 'both jobs to end');
      // Unfiltered: each job from its creation (PENDING) to its end, sequences growing; states in between may be coalesced away.
      for (const id of [first.id, second.id]) {
        const ofJob = updates(everything.events).filter((job) => job.id === id);
        expect(ofJob[0].status).toBe('PENDING');
        expect(ofJob.at(-1)!.status).toBe('COMPLETED');
        const sequences = ofJob.map((job) => job.sequence);
        expect(sequences).toEqual([...new Set(sequences)].sort((a, b) => a - b));
      }
    } finally {
      await client.dispose();
    }
  });
});
