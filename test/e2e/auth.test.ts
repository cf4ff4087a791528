import { stat } from 'node:fs/promises';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { json } from 'node:stream/consumers';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultKeyFile } from '../../src/auth/first-key';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  CancelJobDocument,
  DatasetDocument,
  DeleteWebhookDocument,
  IngestDocument,
  JobDocument,
  JobIssuesDocument,
  JobProgressDocument,
  JobsApiDatasetCountDocument,
  JobsApiNodeDocument,
  JobsDocument,
  JobUpdatesDocument,
  JobWebhookDeliveriesDocument,
  RedeliverWebhookDocument,
  RegisterWebhookDocument,
  WebhooksDocument,
  WebhookSigningSecretDocument,
} from '../generated/graphql';
import { createKey, sluice } from '../helpers/cli';
import { GraphQLClient } from '../helpers/client';
import { engineConfig } from '../helpers/engine';
import { tempDir, writeText } from '../helpers/files';
import { allRows, ingest } from '../helpers/queries';
import { connectionInit, openRawSocket } from '../helpers/raw-socket';
import { startReceiver } from '../helpers/receiver';
import { defaultKey, healthUrl, heldUploads, NO_UPLOADS, openSubscriptions, startServer, type TestServer, until, waitForJob } from '../helpers/server';
import { queryStore } from '../helpers/store';
import { SubscriptionClient, type Transport } from '../helpers/subscribe';

let server: TestServer;
let file: string;

beforeAll(async () => {
  server = await startServer({ webhookAllowPrivate: true, webhookRetryDelaysMs: [50] });
  file = await writeText('small.csv', 'id,name\n1,a\n2,b\n');
});
afterAll(async () => {
  await server?.stop();
});

const UNKNOWN_JOB = 'job_00000000-0000-4000-8000-000000000000';

/** A POST of `body` to the server with these headers, answered as status and parsed JSON body. */
async function post(headers: Record<string, string>, body: BodyInit = JSON.stringify({ query: print(JobsDocument), variables: {} })) {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, authenticate: response.headers.get('www-authenticate'), body: (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

describe('API keys over HTTP', () => {
  const refusals: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a scheme other than Bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['a malformed key', { authorization: 'Bearer not-a-key' }],
    ['an unknown key of the right shape', { authorization: `Bearer sluice_000000000000_${'A'.repeat(43)}` }],
  ];
  it.each(refusals)('answers %s with 401, a GraphQL error body and WWW-Authenticate', async (_what, headers) => {
    const answer = await post(headers);
    expect(answer.status).toBe(401);
    expect(answer.authenticate).toBe('Bearer realm="sluice"');
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors).toEqual([{ message: expect.stringContaining('API key'), extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  it('refuses a right key id with a wrong secret', async () => {
    const id = server.apiKey!.split('_')[1];
    const answer = await post({ authorization: `Bearer sluice_${id}_${'B'.repeat(43)}` });
    expect(answer.status).toBe(401);
  });

  it('refuses an upload without a key before reading it: no job, nothing spooled', async () => {
    const anonymous = new GraphQLClient(server.url);
    const answer = await anonymous.upload(IngestDocument, { input: { dataset: 'anonymous' } }, file);
    expect(answer.status).toBe(401);
    expect(answer.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await heldUploads(server)).toEqual(NO_UPLOADS);
    expect((await server.client.request(JobsDocument, {})).jobs.edges.map((edge) => edge.node.dataset.name)).not.toContain('anonymous');
  });

  it('refuses an SSE subscription without a key with 401', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: print(JobUpdatesDocument), variables: {} }),
    });
    expect(response.status).toBe(401);
    expect((await response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('answers a request with a valid key, the Bearer scheme in any case', async () => {
    const answer = await post({ authorization: `bearer ${server.apiKey}` });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
  });

  it('serves /health without a key, for load balancers', async () => {
    expect((await fetch(healthUrl(server))).status).toBe(200);
  });
});

describe('API keys over WebSocket', () => {
  it('closes with 4403 after a connection_init without a key or with a wrong one', async () => {
    for (const key of [null, 'sluice_000000000000_' + 'A'.repeat(43)]) {
      const raw = await openRawSocket(server.url);
      raw.send(connectionInit(key));
      expect(await raw.closed).toEqual({ code: 4403, reason: 'Forbidden' });
      expect(raw.messages).toEqual([]);
    }
  });

  it('closes with 4401 a client that subscribes before the server acknowledged it', async () => {
    const raw = await openRawSocket(server.url);
    raw.send({ id: '1', type: 'subscribe', payload: { query: print(JobUpdatesDocument) } });
    expect(await raw.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
  });

  it('closes with 4408 a connection that never sends connection_init', async () => {
    const impatient = await startServer({ connectionInitWaitTimeoutMs: 200 });
    try {
      const raw = await openRawSocket(impatient.url);
      expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    } finally {
      await impatient.stop();
    }
  });

  it('acknowledges a valid key and runs subscriptions', async () => {
    const raw = await openRawSocket(server.url);
    try {
      raw.send(connectionInit(server.apiKey));
      await raw.next((message) => message.type === 'connection_ack');
      const job = await ingest(server.client, { dataset: 'ws-auth' }, file);
      raw.send({ id: '1', type: 'subscribe', payload: { query: print(JobProgressDocument), variables: { id: job.id } } });
      await raw.next((message) => message.type === 'complete' && message.id === '1');
      expect(raw.messages.find((message) => message.type === 'next')).toMatchObject({ payload: { data: { jobProgress: { id: job.id, status: 'COMPLETED' } } } });
    } finally {
      raw.socket.close();
    }
  });

  it('closes with 1009 a message larger than the 64 KiB payload limit', async () => {
    const raw = await openRawSocket(server.url);
    raw.send(connectionInit(server.apiKey));
    await raw.next((message) => message.type === 'connection_ack');
    raw.send({ id: '1', type: 'subscribe', payload: { query: `subscription { jobUpdates { id } } # ${'x'.repeat(64 * 1024)}` } });
    expect((await raw.closed).code).toBe(1009);
  });
});

describe('connection and subscription caps', () => {
  let capped: TestServer;
  beforeAll(async () => {
    capped = await startServer({ maxSubscriptionsPerConnection: 2, maxConnectionsPerKey: 2 });
  });
  afterAll(async () => {
    await capped?.stop();
  });

  it('refuses a subscription over the per-connection cap with TOO_MANY_SUBSCRIPTIONS; the connection and its other subscriptions go on', async () => {
    const raw = await openRawSocket(capped.url);
    try {
      raw.send(connectionInit(capped.apiKey));
      await raw.next((message) => message.type === 'connection_ack');
      for (const id of ['1', '2', '3']) raw.send({ id, type: 'subscribe', payload: { query: print(JobUpdatesDocument) } });
      const refused = await raw.next((message) => message.id === '3');
      expect(refused).toEqual({ id: '3', type: 'error', payload: [expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })] });
      // Ending one frees its place.
      raw.send({ id: '1', type: 'complete' });
      raw.send({ id: '4', type: 'subscribe', payload: { query: print(JobUpdatesDocument) } });
      const job = await ingest(capped.client, { dataset: 'capped' }, file);
      await raw.next((message) => message.id === '4' && message.type === 'next' && JSON.stringify(message.payload).includes(job.id));
      await raw.next((message) => message.id === '2' && message.type === 'next' && JSON.stringify(message.payload).includes(job.id));
      expect(raw.messages.some((message) => message.id === '4' && message.type === 'error')).toBe(false);
    } finally {
      raw.socket.close();
    }
  });

  it('closes with 4429 a WebSocket over the per-key cap, counts SSE streams too, and frees a slot when a connection closes', async () => {
    const open = [await openRawSocket(capped.url), await openRawSocket(capped.url)];
    for (const raw of open) {
      raw.send(connectionInit(capped.apiKey));
      await raw.next((message) => message.type === 'connection_ack');
    }
    const third = await openRawSocket(capped.url);
    third.send(connectionInit(capped.apiKey));
    expect(await third.closed).toEqual({ code: 4429, reason: 'Too many connections for this API key' });

    const sse = await fetch(capped.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...capped.client.authorization },
      body: JSON.stringify({ query: print(JobUpdatesDocument), variables: {} }),
    });
    expect(sse.status).toBe(429);
    expect((await sse.json()).errors[0].extensions.code).toBe('TOO_MANY_CONNECTIONS');

    // Another key of the same server has its own quota.
    const other = await openRawSocket(capped.url);
    other.send(connectionInit(await createKey(capped.dataDir, 'other')));
    await other.next((message) => message.type === 'connection_ack');
    other.socket.close();

    open[0].socket.close();
    await open[0].closed;
    const stream = new SubscriptionClient(capped.url, 'sse', capped.apiKey);
    try {
      const received = stream.subscribe(JobUpdatesDocument, {});
      const job = await ingest(capped.client, { dataset: 'capped-sse' }, file);
      await until(async () => received.events, (events) => events.some((event) => event.data.jobUpdates.id === job.id), 'the SSE event');
      expect(received.errors).toEqual([]);
    } finally {
      await stream.dispose();
      open[1].socket.close();
    }
  });
});

/** A jobUpdates subscription POSTed over node:http, which sends no Accept header unless given one (fetch always adds one); resolves with the response head. */
function openStream(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, resolve);
    request.once('error', reject);
    request.end(JSON.stringify({ query: print(JobUpdatesDocument), variables: {} }));
  });
}

describe('SSE streams and the per-key cap', () => {
  // Yoga answers a subscription with an event stream for each of these, as for `text/event-stream`.
  const ACCEPTS = [undefined, '*/*', 'text/*', 'Text/Event-Stream'];
  let capped: TestServer;
  beforeAll(async () => {
    capped = await startServer({ maxConnectionsPerKey: ACCEPTS.length });
  });
  afterAll(async () => {
    await capped?.stop();
  });

  it('counts every stream, whatever its Accept header, on /health and against the cap: the one over it gets 429, and a closed one frees its slot', async () => {
    const streams: IncomingMessage[] = [];
    try {
      for (const accept of ACCEPTS) {
        const stream = await openStream(capped.url, { ...capped.client.authorization, ...(accept === undefined ? {} : { accept }) });
        streams.push(stream);
        expect({ accept, status: stream.statusCode, type: stream.headers['content-type'] }).toEqual({ accept, status: 200, type: 'text/event-stream' });
      }
      await until(() => openSubscriptions(capped), (open) => open === ACCEPTS.length, 'every stream counted on /health');

      const over = await openStream(capped.url, capped.client.authorization);
      expect(over.statusCode).toBe(429);
      expect(await json(over)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'TOO_MANY_CONNECTIONS' } }] });
      expect(await openSubscriptions(capped)).toBe(ACCEPTS.length);

      streams.shift()!.destroy();
      const retry = async () => {
        const stream = await openStream(capped.url, capped.client.authorization);
        if (stream.statusCode !== 200) stream.destroy();
        return stream;
      };
      streams.push(await until(retry, (stream) => stream.statusCode === 200, 'a slot freed by the closed stream'));
    } finally {
      for (const stream of streams) stream.destroy();
    }
  });
});

describe('workspaces', () => {
  let acme: GraphQLClient;
  let acmeKey: string;
  let acmeJob: string;
  let acmeDelivery: string;
  let acmeEndpoint: string;
  const receivers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    acmeKey = await createKey(server.dataDir, 'acme');
    acme = new GraphQLClient(server.url, acmeKey);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const registered = await acme.request(RegisterWebhookDocument, { url: receiver.url, events: ['job.completed'] });
    acmeEndpoint = registered.registerWebhook.endpoint!.id;
    const job = await ingest(acme, { dataset: 'shared-name', webhookUrl: receiver.url }, file);
    acmeJob = job.id;
    const deliveries = await until(
      async () => (await acme.request(JobWebhookDeliveriesDocument, { id: acmeJob })).job!.webhookDeliveries,
      (list) => list.length > 0,
      'the delivery',
    );
    acmeDelivery = deliveries[0].id;
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  /** What the default workspace gets for `id` of acme and for an id that does not exist: the same. */
  async function bothAnswers<T>(run: (id: string) => Promise<T>, acmeId: () => string, unknownId: string): Promise<[T, T]> {
    return [await run(acmeId()), await run(unknownId)];
  }

  it('answers job, node, issues and webhook deliveries of another workspace exactly as for an unknown id', async () => {
    const queries: Array<(id: string) => Promise<unknown>> = [
      (id) => server.client.raw(JobDocument, { id }),
      (id) => server.client.raw(JobsApiNodeDocument, { id }),
      (id) => server.client.raw(JobIssuesDocument, { id }),
      (id) => server.client.raw(JobWebhookDeliveriesDocument, { id }),
    ];
    for (const query of queries) {
      const [foreign, unknown] = await bothAnswers(query, () => acmeJob, UNKNOWN_JOB);
      expect(foreign).toEqual(unknown);
      expect(JSON.stringify(foreign)).not.toContain(acmeJob);
    }
    // The owner sees it.
    expect((await acme.request(JobsApiNodeDocument, { id: acmeJob })).node).toMatchObject({ id: acmeJob });
  });

  it('answers mutations on another workspace job, webhook or delivery with NOT_FOUND, exactly as for an unknown id, and changes nothing', async () => {
    const cancel = await bothAnswers((id) => server.client.raw(CancelJobDocument, { id }), () => acmeJob, UNKNOWN_JOB);
    expect(cancel[0]).toEqual(cancel[1]);
    expect(JSON.stringify(cancel[0])).toContain('NOT_FOUND');
    const redeliver = await bothAnswers((deliveryId) => server.client.raw(RedeliverWebhookDocument, { deliveryId }), () => acmeDelivery, 'whd_unknown');
    expect(redeliver[0]).toEqual(redeliver[1]);
    expect(JSON.stringify(redeliver[0])).toContain('NOT_FOUND');
    const remove = await bothAnswers((id) => server.client.raw(DeleteWebhookDocument, { id }), () => acmeEndpoint, 'whe_unknown');
    expect(remove[0]).toEqual(remove[1]);
    expect(JSON.stringify(remove[0])).toContain('NOT_FOUND');
    expect((await acme.request(WebhooksDocument, {})).webhooks.map((endpoint) => endpoint.id)).toEqual([acmeEndpoint]);
    expect((await acme.request(JobDocument, { id: acmeJob })).job!.status).toBe('COMPLETED');
  });

  it('lists only the caller workspace jobs, datasets, webhooks and signing secret; the same dataset name is a different dataset', async () => {
    const mine = await ingest(server.client, { dataset: 'shared-name' }, await writeText('mine.csv', 'id,name\n9,z\n'));
    const defaultJobs = (await server.client.request(JobsDocument, { first: 1000 })).jobs.edges.map((edge) => edge.node.id);
    expect(defaultJobs).toContain(mine.id);
    expect(defaultJobs).not.toContain(acmeJob);
    expect((await acme.request(JobsDocument, { first: 1000 })).jobs.edges.map((edge) => edge.node.id)).toEqual([acmeJob]);
    expect((await acme.request(JobsApiDatasetCountDocument, {})).datasets.map((dataset) => dataset.name)).toEqual(['shared-name']);
    expect((await allRows(acme, 'shared-name')).map((row) => row.values)).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    expect((await allRows(server.client, 'shared-name')).map((row) => row.values)).toEqual([{ id: 9, name: 'z' }]);
    expect((await server.client.request(WebhooksDocument, {})).webhooks.map((endpoint) => endpoint.id)).not.toContain(acmeEndpoint);
    const secrets = [(await acme.request(WebhookSigningSecretDocument, {})).webhookSigningSecret, (await server.client.request(WebhookSigningSecretDocument, {})).webhookSigningSecret];
    expect(secrets[0]).not.toEqual(secrets[1]);
    // A dataset only acme has is absent for default.
    await ingest(acme, { dataset: 'acme-only' }, file);
    expect((await server.client.raw(DatasetDocument, { name: 'acme-only' })).data).toEqual({ dataset: null });
  });

  it.each<Transport>(['ws', 'sse'])('answers jobProgress of another workspace job over %s exactly as for an unknown id', async (transport) => {
    const client = new SubscriptionClient(server.url, transport, server.apiKey);
    try {
      const foreign = client.subscribe(JobProgressDocument, { id: acmeJob });
      const unknown = client.subscribe(JobProgressDocument, { id: UNKNOWN_JOB });
      await Promise.all([foreign.done, unknown.done]);
      expect(foreign.events).toEqual([]);
      expect(foreign.errors).toEqual(unknown.errors);
      expect(JSON.stringify(foreign.errors)).toContain('NOT_FOUND');
    } finally {
      await client.dispose();
    }
    const owner = new SubscriptionClient(server.url, transport, acmeKey);
    try {
      const own = owner.subscribe(JobProgressDocument, { id: acmeJob });
      await own.done;
      expect(own.events.at(-1)!.data.jobProgress).toMatchObject({ id: acmeJob, status: 'COMPLETED' });
    } finally {
      await owner.dispose();
    }
  });

  it.each<Transport>(['ws', 'sse'])('streams over %s jobUpdates of the caller workspace only', async (transport) => {
    const client = new SubscriptionClient(server.url, transport, server.apiKey);
    try {
      const updates = client.subscribe(JobUpdatesDocument, {});
      // Subscriptions start asynchronously: wait until the server holds it before acme's job runs.
      await until(() => openSubscriptions(server), (n) => n > 0, 'the subscription');
      const foreign = await ingest(acme, { dataset: `updates-${transport}` }, file);
      const own = await ingest(server.client, { dataset: `updates-${transport}` }, file);
      await until(async () => updates.events, (events) => events.some((event) => event.data.jobUpdates.id === own.id && event.data.jobUpdates.status === 'COMPLETED'), 'own job events');
      expect(updates.events.map((event) => event.data.jobUpdates.id)).not.toContain(foreign.id);
    } finally {
      await client.dispose();
    }
  });
});

describe('the sluice command line', () => {
  it('creates a key that works at once, lists keys without secrets, and revokes one for HTTP and WebSocket alike', async () => {
    const created = await sluice(server.dataDir, 'keys', 'create', '--workspace', 'cli-ws', '--name', 'pipeline');
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sluice_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const id = key.split('_')[1];
    const client = new GraphQLClient(server.url, key);
    expect((await client.raw(JobsDocument, {})).status).toBe(200);

    const listed = await sluice(server.dataDir, 'keys', 'list', '--workspace', 'cli-ws');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+cli-ws\\s+sluice_${id}_…\\s+\\S+\\s+active\\s+pipeline$`, 'm'));
    expect(listed.stdout).not.toContain(key.split('_').slice(2).join('_'));

    // An open WebSocket is stopped at its next subscription once its key is revoked.
    const raw = await openRawSocket(server.url);
    raw.send(connectionInit(key));
    await raw.next((message) => message.type === 'connection_ack');

    const revoked = await sluice(server.dataDir, 'keys', 'revoke', id);
    expect(revoked.code).toBe(0);
    expect((await client.raw(JobsDocument, {})).status).toBe(401);
    raw.send({ id: '1', type: 'subscribe', payload: { query: print(JobUpdatesDocument) } });
    expect((await raw.closed).code).toBe(4403);
    const again = await openRawSocket(server.url);
    again.send(connectionInit(key));
    expect((await again.closed).code).toBe(4403);

    expect((await sluice(server.dataDir, 'keys', 'list')).stdout).toMatch(new RegExp(`^${id}\\s.*revoked`, 'm'));
    expect((await sluice(server.dataDir, 'keys', 'revoke', id)).code).toBe(2);
    expect((await sluice(server.dataDir, 'keys', 'create', '--workspace', '../etc')).code).toBe(2);
    expect((await sluice(server.dataDir, 'keys', 'create')).code).toBe(2);
  });

  it('stores only a hash of each key', async () => {
    const dump = JSON.stringify(await queryStore(server.dataDir, 'SELECT * FROM api_keys'));
    expect(dump).not.toContain(server.apiKey!.split('_').slice(2).join('_'));
    expect(dump).toContain(server.apiKey!.split('_')[1]);
  });
});

/** Starts the app in-process with its log lines and what it printed on stderr collected. */
async function startLogged(dataDir: string, env: Record<string, string> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const printed: string[] = [];
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
    printed.push(String(text));
    return true;
  });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = buildApp(loadConfig({ ...env }, { host: '127.0.0.1', port: 0, dataDir, ...engineConfig(dataDir) }), pino({ level: 'info' }, sink));
  const url = await app.start().finally(() => stderr.mockRestore());
  return { app, url, lines, printed: printed.join('') };
}

describe('first start', () => {
  it('creates a key for workspace default, prints it once, and leaves it in an owner-only file; a restart keeps it', async () => {
    const dataDir = await tempDir();
    const first = await startLogged(dataDir);
    const key = await defaultKey(dataDir);
    try {
      expect(key).toMatch(/^sluice_/);
      expect((await stat(defaultKeyFile(dataDir))).mode & 0o777).toBe(0o600);
      expect(first.printed.split(key!)).toHaveLength(2);
      expect(first.printed).toContain(defaultKeyFile(dataDir));
      // Logs may be shipped elsewhere: they name the key and the file, never the secret.
      expect(first.lines).toContainEqual(expect.objectContaining({ workspace: 'default', keyId: key!.split('_')[1], file: defaultKeyFile(dataDir) }));
      expect(JSON.stringify(first.lines)).not.toContain(key);
      const client = new GraphQLClient(first.url, key);
      const job = await ingest(client, { dataset: 'first' }, file);
      expect(job.status).toBe('COMPLETED');
    } finally {
      await first.app.stop();
    }
    const second = await startLogged(dataDir);
    try {
      expect(await defaultKey(dataDir)).toBe(key);
      expect(second.printed).toBe('');
      expect(JSON.stringify(second.lines)).not.toContain(key);
      expect((await new GraphQLClient(second.url, key).raw(JobsDocument, {})).status).toBe(200);
    } finally {
      await second.app.stop();
    }
  });

  it('creates no default key when keys were made with the command line before the first start', async () => {
    const dataDir = await tempDir();
    const key = await createKey(dataDir, 'acme');
    const started = await startLogged(dataDir);
    try {
      expect(await defaultKey(dataDir)).toBeNull();
      expect((await new GraphQLClient(started.url, key).raw(JobsDocument, {})).status).toBe(200);
    } finally {
      await started.app.stop();
    }
  });

  it('with SLUICE_AUTH=off takes requests without a key as workspace default, and warns at every start', async () => {
    const dataDir = await tempDir();
    for (let start = 0; start < 2; start++) {
      const open = await startLogged(dataDir, { SLUICE_AUTH: 'off' });
      try {
        expect(open.lines.filter((line) => line.level === 40 && String(line.msg).includes('SLUICE_AUTH=off'))).toHaveLength(1);
        const anonymous = new GraphQLClient(open.url);
        const job = await anonymous.upload(IngestDocument, { input: { dataset: 'open' } }, file);
        expect(job.status).toBe(200);
        await waitForJob(anonymous, job.data!.ingest.job!.id);
      } finally {
        await open.app.stop();
      }
    }
    expect(await defaultKey(dataDir)).toBeNull();
  });
});
