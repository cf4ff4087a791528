import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeleteWebhookDocument,
  IngestDocument,
  JobWebhookDeliveriesDocument,
  RedeliverWebhookDocument,
  RegisterWebhookDocument,
  RotateWebhookSigningSecretDocument,
  WebhooksDocument,
  WebhookSigningSecretDocument,
} from '../generated/graphql';
import { join } from 'node:path';
import { PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv, writeText } from '../helpers/files';
import { startServerProcess } from '../helpers/process';
import { ingest, submitRefused } from '../helpers/queries';
import { type Answer, startReceiver } from '../helpers/receiver';
import { startServer, type TestServer, until, waitForJob } from '../helpers/server';

let server: TestServer;
let file: string;

beforeAll(async () => {
  server = await startServer({ webhookAllowPrivate: true, webhookRetryDelaysMs: [50, 50, 50] });
  file = await writeText('small.csv', 'id,name\n1,a\n2,b\n');
});
afterAll(async () => {
  await server?.stop();
});

async function deliveriesOf(id: string) {
  return (await server.client.request(JobWebhookDeliveriesDocument, { id })).job!.webhookDeliveries;
}

/** Ingests the small file announcing its end to `webhookUrl`, and waits until its delivery has settled. */
async function ingestWithHook(dataset: string, webhookUrl: string) {
  const job = await ingest(server.client, { dataset, webhookUrl }, file);
  const [delivery] = await until(
    () => deliveriesOf(job.id),
    (deliveries) => deliveries.length === 1 && deliveries[0].nextAttemptAt === null,
    'the delivery to settle',
  );
  return { job, delivery };
}

const headersOf = (request: { headers: Record<string, unknown> }) =>
  Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [name, String(request.headers[name])]));

describe('per-job webhooks', () => {
  it('retries 500, 500, then delivers: one delivery, 3 attempts, one webhook-id, a signature standardwebhooks verifies', async () => {
    const receiver = await startReceiver((n) => (n < 2 ? 500 : 200));
    try {
      const { job, delivery } = await ingestWithHook('hook-retry', receiver.url);
      expect(delivery).toMatchObject({ event: 'job.completed', url: receiver.url, attempts: 3, lastStatusCode: 200, delivered: true, nextAttemptAt: null });
      expect(receiver.requests).toHaveLength(3);
      expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivery.id]));

      const secret = (await server.client.request(WebhookSigningSecretDocument, {})).webhookSigningSecret;
      expect(secret).toMatch(/^whsec_/);
      const verifier = new Webhook(secret);
      for (const request of receiver.requests) {
        const event = verifier.verify(request.body, headersOf(request)) as { type: string; data: Record<string, unknown> };
        expect(event).toMatchObject({ type: 'job.completed', data: { id: job.id, status: 'COMPLETED', dataset: 'hook-retry', rowsWritten: 2, rowsRejected: 0 } });
        expect(Buffer.byteLength(request.body)).toBeLessThan(20 * 1024);
      }
      // A tampered body does not verify.
      const tampered = receiver.requests[2].body.replace('"rowsWritten":2', '"rowsWritten":3');
      expect(() => verifier.verify(tampered, headersOf(receiver.requests[2]))).toThrow();
    } finally {
      await receiver.close();
    }
  });

  it('stops at 410 and other 4xx, and does not follow redirects', async () => {
    for (const status of [410, 404]) {
      const receiver = await startReceiver(() => status);
      try {
        const { delivery } = await ingestWithHook(`hook-${status}`, receiver.url);
        expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: status, delivered: false, nextAttemptAt: null });
        expect(receiver.requests).toHaveLength(1);
      } finally {
        await receiver.close();
      }
    }
    const target = await startReceiver();
    const redirecting = await startReceiver((): Answer => (response) => response.writeHead(307, { location: target.url }).end());
    try {
      const { delivery } = await ingestWithHook('hook-redirect', redirecting.url);
      expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 307, delivered: false });
      expect(target.requests).toHaveLength(0);
    } finally {
      await target.close();
      await redirecting.close();
    }
  });

  it('retries 429 after its Retry-After', async () => {
    const receiver = await startReceiver((n): Answer => (n === 0 ? (response) => response.writeHead(429, { 'retry-after': '1' }).end() : 200));
    try {
      const { delivery } = await ingestWithHook('hook-429', receiver.url);
      expect(delivery).toMatchObject({ attempts: 2, delivered: true });
      const [first, second] = receiver.requests.map((request) => Number(request.headers['webhook-timestamp']));
      expect(second - first).toBeGreaterThanOrEqual(1);
    } finally {
      await receiver.close();
    }
  });

  it('signs with both secrets during a rotation, and redelivers on request with the same webhook-id', async () => {
    const receiver = await startReceiver();
    try {
      const before = (await server.client.request(WebhookSigningSecretDocument, {})).webhookSigningSecret;
      const { secret: after } = (await server.client.request(RotateWebhookSigningSecretDocument, {})).rotateWebhookSigningSecret;
      expect(after).not.toBe(before);
      const { delivery } = await ingestWithHook('hook-rotation', receiver.url);
      const [request] = receiver.requests;
      expect(request.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
      for (const secret of [before, after]) expect(() => new Webhook(secret).verify(request.body, headersOf(request))).not.toThrow();

      const redelivered = await server.client.request(RedeliverWebhookDocument, { deliveryId: delivery.id });
      expect(redelivered.redeliverWebhook.userErrors).toEqual([]);
      await until(async () => receiver.requests.length, (count) => count === 2, 'the redelivery');
      expect(receiver.requests[1].headers['webhook-id']).toBe(delivery.id);
      const unknown = await server.client.request(RedeliverWebhookDocument, { deliveryId: 'msg_unknown' });
      expect(unknown.redeliverWebhook.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    } finally {
      await receiver.close();
    }
  });
});

describe('webhook destinations by default', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startServer({ webhookRetryDelaysMs: [50] });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses loopback and link-local addresses at submission, and names that resolve to them at connect time', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::ffff:127.0.0.1]/hook', 'http://10.0.0.1/hook']) {
      const errors = await submitRefused(strict.client, { dataset: 'refused', webhookUrl: url }, file);
      expect(errors).toEqual([expect.objectContaining({ code: 'WEBHOOK_URL_REFUSED', field: ['input', 'webhookUrl'] })]);
    }
    const receiver = await startReceiver();
    try {
      const job = await ingest(strict.client, { dataset: 'by-name', webhookUrl: `http://localhost:${receiver.port}/hook` }, file);
      const [delivery] = await until(
        async () => (await strict.client.request(JobWebhookDeliveriesDocument, { id: job.id })).job!.webhookDeliveries,
        (deliveries) => deliveries.length === 1 && deliveries[0].nextAttemptAt === null,
        'the delivery to settle',
      );
      expect(delivery).toMatchObject({ attempts: 1, delivered: false, lastStatusCode: null, lastError: expect.stringContaining('destination refused') });
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});

describe('attempt time limit', () => {
  it('counts an attempt that takes too long as failed and retries it', async () => {
    const timing = await startServer({ webhookAllowPrivate: true, webhookTimeoutMs: 300, webhookRetryDelaysMs: [50] });
    // The first request is never answered; the second is.
    const receiver = await startReceiver((n): Answer => (n === 0 ? () => undefined : 200));
    try {
      const job = await ingest(timing.client, { dataset: 'slow-receiver', webhookUrl: receiver.url }, file);
      const [delivery] = await until(
        async () => (await timing.client.request(JobWebhookDeliveriesDocument, { id: job.id })).job!.webhookDeliveries,
        (deliveries) => deliveries[0]?.delivered === true,
        'the retry to be delivered',
      );
      expect(delivery).toMatchObject({ attempts: 2, lastStatusCode: 200 });
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.requests[1].at - receiver.requests[0].at).toBeGreaterThanOrEqual(300);
    } finally {
      await receiver.close();
      await timing.stop();
    }
  });
});

describe('an allowlisted host', () => {
  it('may be internal when SLUICE_WEBHOOK_ALLOWED_HOSTS names it', async () => {
    const allowing = await startServer({ webhookAllowedHosts: ['127.0.0.1'] });
    const receiver = await startReceiver();
    try {
      const job = await ingest(allowing.client, { dataset: 'allowlisted', webhookUrl: receiver.url }, file);
      await until(async () => receiver.requests.length, (count) => count === 1, 'the delivery');
      expect(JSON.parse(receiver.requests[0].body)).toMatchObject({ type: 'job.completed', data: { id: job.id } });
    } finally {
      await receiver.close();
      await allowing.stop();
    }
  });
});

describe('durable delivery', () => {
  it('delivers after a restart when the process died between the terminal commit and the answer', async () => {
    const dataDir = await tempDir();
    let held = 0;
    // The first request is never answered: the server is killed while it waits for it.
    const receiver = await startReceiver((n): Answer => (n === 0 ? () => held++ : 200));
    const env = { SLUICE_WEBHOOK_ALLOW_PRIVATE: 'true', SLUICE_WEBHOOK_TIMEOUT_MS: '500', SLUICE_WEBHOOK_RETRY_DELAYS_MS: '100,100' };
    try {
      const first = await startServerProcess(dataDir, env);
      const answer = await first.client.upload(IngestDocument, { input: { dataset: 'durable', webhookUrl: receiver.url } }, file);
      const id = answer.data!.ingest.job!.id;
      await until(async () => receiver.requests.length, (count) => count === 1, 'the first attempt');
      await first.kill('SIGKILL');

      const second = await startServerProcess(dataDir, env);
      try {
        expect((await waitForJob(second.client, id)).status).toBe('COMPLETED');
        await until(async () => receiver.requests.length, (count) => count >= 2, 'the attempt after restart', 20_000);
        const deliveries = (await second.client.request(JobWebhookDeliveriesDocument, { id })).job!.webhookDeliveries;
        expect(deliveries).toHaveLength(1);
        await until(
          async () => (await second.client.request(JobWebhookDeliveriesDocument, { id })).job!.webhookDeliveries[0],
          (delivery) => delivery.delivered,
          'the delivery to be recorded',
        );
        expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([deliveries[0].id, deliveries[0].id]);
        expect(held).toBe(1);
      } finally {
        await second.kill('SIGTERM');
      }
    } finally {
      await receiver.close();
    }
  });
});

describe('workspace webhook endpoints', () => {
  it('registers an endpoint with its own secret, sends it the events it asked for, lists it without the secret, deletes it', async () => {
    const receiver = await startReceiver();
    try {
      const registered = (await server.client.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.started', 'job.completed'] })).registerWebhook;
      expect(registered.userErrors).toEqual([]);
      expect(registered.secret).toMatch(/^whsec_/);
      const endpoint = registered.endpoint!;
      expect(endpoint).toMatchObject({ url: receiver.url, events: ['job.started', 'job.completed'], disabled: false });
      const listed = (await server.client.request(WebhooksDocument, {})).webhooks;
      expect(listed).toContainEqual(endpoint);
      expect(JSON.stringify(listed)).not.toContain('whsec_');

      const job = await ingest(server.client, { dataset: 'endpoint-events' }, file);
      await until(async () => receiver.requests.length, (count) => count === 2, 'job.started and job.completed');
      const verifier = new Webhook(registered.secret!);
      const events = receiver.requests.map((request) => verifier.verify(request.body, headersOf(request)) as { type: string; data: { id: string } });
      expect(events.map((event) => [event.type, event.data.id])).toEqual([
        ['job.started', job.id],
        ['job.completed', job.id],
      ]);

      const deleted = (await server.client.request(DeleteWebhookDocument, { id: endpoint.id })).deleteWebhook;
      expect(deleted).toEqual({ deletedId: endpoint.id, userErrors: [] });
      expect((await server.client.request(WebhooksDocument, {})).webhooks.map((e) => e.id)).not.toContain(endpoint.id);
      await ingest(server.client, { dataset: 'endpoint-deleted' }, file);
      expect(receiver.requests).toHaveLength(2);
      expect((await server.client.request(DeleteWebhookDocument, { id: endpoint.id })).deleteWebhook.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    } finally {
      await receiver.close();
    }
  });

  it('sends job.started while the job runs, not when it ends', async () => {
    const receiver = await startReceiver();
    const big = join(await tempDir(), 'people.csv');
    await writeGeneratedCsv(big, PERSON_HEADER, 150_000, personLine);
    const { endpoint } = (await server.client.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.started'] })).registerWebhook;
    try {
      const job = await ingest(server.client, { dataset: 'started-early', columns: PERSON_COLUMNS }, big);
      expect(receiver.requests).toHaveLength(1);
      expect(JSON.parse(receiver.requests[0].body)).toMatchObject({ type: 'job.started', data: { id: job.id, status: 'RUNNING' } });
      expect(receiver.requests[0].at).toBeLessThan(Date.parse(job.completedAt!));
    } finally {
      await server.client.request(DeleteWebhookDocument, { id: endpoint!.id });
      await receiver.close();
    }
  });

  it('disables an endpoint that answers 410 Gone', async () => {
    const receiver = await startReceiver(() => 410);
    try {
      const { endpoint } = (await server.client.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.completed'] })).registerWebhook;
      const job = await ingest(server.client, { dataset: 'endpoint-gone' }, file);
      await until(async () => (await deliveriesOf(job.id)).filter((d) => d.nextAttemptAt === null && d.attempts > 0).length, (n) => n === 1, 'the 410');
      const after = (await server.client.request(WebhooksDocument, {})).webhooks.find((e) => e.id === endpoint!.id);
      expect(after).toMatchObject({ disabled: true });
      const next = await ingest(server.client, { dataset: 'endpoint-gone-2' }, file);
      expect(await deliveriesOf(next.id)).toEqual([]);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a bad URL or unknown events', async () => {
    const bad = (await server.client.request(RegisterWebhookDocument, { url: 'ftp://example.com/x', events: ['job.exploded'] })).registerWebhook;
    expect(bad.endpoint).toBeNull();
    expect(bad.secret).toBeNull();
    expect(bad.userErrors.map((e) => e.code).sort()).toEqual(['INVALID_EVENTS', 'INVALID_URL']);
  });
});
