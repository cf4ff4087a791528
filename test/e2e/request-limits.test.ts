import { request as httpRequest } from 'node:http';
import { type DocumentNode, getIntrospectionQuery, parse, print } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLL_QUERY } from '../../scripts/bench/sluice';
import { loadConfig } from '../../src/config';
import { schema } from '../../src/schema';
import { QUERY_TOO_COMPLEX, useQueryLimits } from '../../src/server/armor';
import * as operations from '../generated/graphql';
import { IngestDocument, JobFieldsFragmentDoc, JobProgressDocument, JobUpdatesDocument } from '../generated/graphql';
import { CSRF_HEADER } from '../helpers/client';
import { writeText } from '../helpers/files';
import { ingest, jobCount } from '../helpers/queries';
import { arrivingUploads, openSubscriptions, startServer, type TestServer, until, uploadsGone } from '../helpers/server';
import { SubscriptionClient } from '../helpers/subscribe';

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : { text } };
}

/**
 * POSTs `body` as JSON (or as it is, with `contentType`), with the server's API key and `headers`,
 * accepting application/graphql-response+json, whose invalid documents are answered 400.
 */
async function post(server: TestServer, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): Promise<Answer> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/graphql-response+json', ...server.client.authorization, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answerOf(response);
}

const query = (text: string) => ({ query: text });

/** The answer to a document refused by a limit: 400, one generic error, no data. */
function expectTooComplex(answer: Answer): void {
  expect(answer.status).toBe(400);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toHaveLength(1);
  expectGeneric(answer.body.errors![0]);
}

/** The generic error: the code, and a message that names no limit value and no field. */
function expectGeneric(error: { message: string; extensions?: Record<string, unknown> }): void {
  expect(error.extensions?.code).toBe(QUERY_TOO_COMPLEX);
  expect(error.message).not.toMatch(/\d/);
  expect(error.message).not.toMatch(/job|dataset|rows|issues|edges|node/i);
}

const LIMITS = { depth: 5, aliases: 3, cost: 300, tokens: 120, directives: 2, items: 20_000 };

/**
 * Per limit: a document just within it and attacks just over it, plainly and hidden in fragments and
 * inline fragments (flattened, they count as if written inline). As queries (HTTP) and subscriptions (WebSocket).
 */
const CASES: Array<{ limit: keyof typeof LIMITS; within: string; over: Record<string, string> }> = [
  {
    limit: 'depth',
    within: '{ job(id: "x") { dataset { rows { edges { cursor } } } } }',
    over: {
      plain: '{ job(id: "x") { dataset { rows { edges { node { row } } } } } }',
      'in fragments': '{ job(id: "x") { ...J } } fragment J on Job { dataset { ...D } } fragment D on Dataset { rows { edges { node { row } } } }',
      'in inline fragments': '{ job(id: "x") { ... on Job { dataset { ... on Dataset { rows { edges { node { row } } } } } } } }',
    },
  },
  {
    limit: 'aliases',
    within: '{ a: job(id: "1") { id } b: job(id: "2") { id } c: job(id: "3") { id } }',
    over: {
      plain: '{ a: job(id: "1") { id } b: job(id: "2") { id } c: job(id: "3") { id } d: job(id: "4") { id } }',
      // One fragment with two aliases, spread twice.
      'in fragments': '{ job(id: "x") { ...A ...A } } fragment A on Job { a: id b: id }',
      'in inline fragments': '{ job(id: "x") { ... on Job { a: id b: id } ... on Job { c: id ... on Job { d: id } } } }',
    },
  },
  {
    limit: 'cost',
    // (2 + 2 + 2 + 1) × 40 = 280
    within: '{ jobs(first: 40) { edges { node { id } } } }',
    over: {
      plain: '{ jobs(first: 50) { edges { node { id } } } }',
      'in fragments': '{ jobs(first: 50) { ...Page } } fragment Page on JobConnection { edges { node { id } } }',
      // A page inside a page: 10 jobs × 10 issues.
      'in inline fragments': '{ jobs(first: 10) { edges { node { ... on Job { issues(first: 10) { totalCount } } } } } }',
    },
  },
  {
    limit: 'tokens',
    within: `{ job(id: "x") { ${'id '.repeat(110)}} }`,
    over: {
      plain: `{ job(id: "x") { ${'id '.repeat(120)}} }`,
      'in fragments': `{ job(id: "x") { ...F } } fragment F on Job { ${'id '.repeat(110)}}`,
      'in inline fragments': `{ job(id: "x") { ... on Job { ${'id '.repeat(115)}} } }`,
    },
  },
  {
    limit: 'directives',
    within: '{ job(id: "x") { id @include(if: true) status @skip(if: false) } }',
    over: {
      plain: '{ job(id: "x") { id @include(if: true) status @skip(if: false) stage @include(if: true) } }',
      'in fragments': '{ job(id: "x") { ...F @include(if: true) } } fragment F on Job { id @skip(if: false) status @skip(if: false) }',
      'in inline fragments': '{ job(id: "x") { ... @include(if: true) { id @skip(if: false) ... on Job @skip(if: false) { status } } } }',
    },
  },
];

/** The attacks as `jobProgress` subscriptions, for WebSocket. */
const SUBSCRIPTION_ATTACKS: Record<Exclude<keyof typeof LIMITS, 'items'>, string> = {
  depth: 'subscription { jobProgress(id: "x") { ...J } } fragment J on Job { dataset { rows { edges { node { row } } } } }',
  aliases: 'subscription { jobProgress(id: "x") { ... on Job { a: id b: id } ...A } } fragment A on Job { c: id d: id }',
  cost: 'subscription { jobProgress(id: "x") { ... on Job { issues(first: 50) { edges { node { code } } } } } }',
  tokens: `subscription { jobProgress(id: "x") { ${'id '.repeat(120)}} }`,
  directives: 'subscription { jobProgress(id: "x") { id @include(if: true) ... on Job @skip(if: false) { status @skip(if: false) } } }',
};

describe('GraphQL document limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ queryLimits: LIMITS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe.each(CASES)('$limit', ({ within, over }) => {
    it('answers a document within the limit', async () => {
      const answer = await post(server, query(within));
      expect(answer.body.errors).toBeUndefined();
      expect(answer).toMatchObject({ status: 200, body: { data: expect.anything() } });
    });

    it.each(Object.entries(over))('refuses an attack %s with 400 and a generic QUERY_TOO_COMPLEX error', async (_how, document) => {
      expectTooComplex(await post(server, query(document)));
    });
  });

  it('answers 200 to a client that accepts only application/json, with the same error', async () => {
    const answer = await post(server, query(CASES[0].over.plain), { accept: 'application/json' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeUndefined();
    expectGeneric(answer.body.errors![0]);
  });

  it('refuses a document over two limits (depth, aliases) with a generic error for each', async () => {
    const answer = await post(server, query(`{ a: job(id: "1") { dataset { rows { edges { node { row } } } } } ${'b: job(id: "2") { id } '.repeat(4)}}`));
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toHaveLength(2);
    for (const error of answer.body.errors!) expectGeneric(error);
  });

  it('applies the same limits to WebSocket subscriptions, failing the operation but not the connection', async () => {
    const client = new SubscriptionClient(server.url, 'ws', server.apiKey);
    try {
      // Held open throughout: a closed connection would end it with an error.
      const open = client.subscribe(JobUpdatesDocument, {});
      for (const [limit, document] of Object.entries(SUBSCRIPTION_ATTACKS)) {
        const refused = client.subscribe(parse(document), {});
        await refused.done;
        expect(refused.events, limit).toEqual([]);
        expect(refused.errors, limit).toHaveLength(1);
        expectGeneric(refused.errors[0] as { message: string; extensions?: Record<string, unknown> });
      }
      const job = await ingest(server.client, { dataset: 'after-refusals' }, await writeText('after.csv', 'a\n1\n'));
      const working = client.subscribe(JobProgressDocument, { id: job.id });
      await working.done;
      expect(working.events.map((event) => event.data.jobProgress.status)).toEqual(['COMPLETED']);
      await until(async () => open.events.length, (count) => count > 0, 'jobUpdates on the connection held open');
      expect(open.errors).toEqual([]);
      expect(open.completed).toBe(false);
    } finally {
      await client.dispose();
    }
  });
});

describe('default limits', () => {
  const yoga = createYoga({ schema, plugins: useQueryLimits(loadConfig({}).queryLimits), logging: false });
  const enveloped = yoga.getEnveloped({});
  const errorsOf = (text: string) => {
    try {
      return enveloped.validate(schema, enveloped.parse(text)).map((error: Error) => error.message);
    } catch (error) {
      return [(error as Error).message];
    }
  };
  const jobFields = print(JobFieldsFragmentDoc);

  const shipped = {
    ...Object.fromEntries(
      Object.entries(operations)
        .filter(([name]) => name.endsWith('Document'))
        .map(([name, document]) => [name, print(document as DocumentNode)]),
    ),
    'bench polling query': POLL_QUERY,
    // Written with literal page sizes, the largest pages the API serves (1000), with every field.
    'a page of 1000 jobs': `{ jobs(first: 1000) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ...JobFields } } } } ${jobFields}`,
    'a page of 1000 rows': '{ dataset(name: "x") { name rowCount columns { name type required } rows(first: 1000) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { row values } } } } }',
    'a page of 1000 issues': '{ job(id: "x") { issues(first: 1000) { totalCount pageInfo { hasNextPage endCursor } edges { node { severity code message row column value } } } } }',
    "GraphiQL's introspection query": getIntrospectionQuery(),
  };

  it.each(Object.entries(shipped))('admit %s', (_name, text) => {
    expect(errorsOf(text)).toEqual([]);
  });

  it('refuse a page inside a page (1000 jobs × 1000 issues)', () => {
    expect(errorsOf('{ jobs(first: 1000) { edges { node { issues(first: 1000) { edges { node { code } } } } } } }')).toEqual([expect.any(String)]);
  });
});

describe('items per execution (pages sized by variables)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ queryLimits: { ...loadConfig({}).queryLimits, items: 2500 } });
    const file = await writeText('items.csv', 'a\n1\n');
    for (let i = 0; i < 3; i++) await ingest(server.client, { dataset: `items-${i}` }, file);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const nested = 'query ($jobs: Int, $issues: Int) { jobs(first: $jobs) { edges { node { id issues(first: $issues) { totalCount } } } } }';

  it('answers pages within the limit', async () => {
    const answer = await post(server, { query: nested, variables: { jobs: 1000, issues: 500 } });
    expect(answer.body.errors).toBeUndefined();
    expect((answer.body.data as { jobs: { edges: unknown[] } }).jobs.edges).toHaveLength(3);
  });

  it('refuses a page inside a page whose sizes come as variables (the static cost counts them once) with QUERY_TOO_COMPLEX', async () => {
    const answer = await post(server, { query: nested, variables: { jobs: 1000, issues: 1000 } });
    expect(answer.body.errors).toEqual([expect.objectContaining({ extensions: { code: QUERY_TOO_COMPLEX } })]);
    expectGeneric(answer.body.errors![0]);
  });

  it('counts each event of a subscription on its own', async () => {
    const client = new SubscriptionClient(server.url, 'ws', server.apiKey);
    try {
      const updates = client.subscribe(parse('subscription { jobUpdates { id status issues(first: 1000) { totalCount } } }'), {});
      await until(() => openSubscriptions(server), (n) => n > 0, 'the subscription');
      const file = await writeText('events.csv', 'a\n1\n');
      for (let i = 0; i < 2; i++) await ingest(server.client, { dataset: `events-${i}` }, file);
      // Two jobs, each PENDING, RUNNING and COMPLETED: far more than 2500 items in all, 1000 per event.
      await until(async () => updates.events.filter((event) => (event.data as { jobUpdates: { status: string } }).jobUpdates.status === 'COMPLETED').length, (n) => n === 2, 'both jobs completed');
      expect(updates.events.length).toBeGreaterThanOrEqual(3);
      expect(updates.errors).toEqual([]);
    } finally {
      await client.dispose();
    }
  });
});

describe('batching', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a JSON array of operations with 400', async () => {
    const answer = await post(server, [query('{ __typename }'), query('{ __typename }')]);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ errors: [{ message: 'Batching is not supported.', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('refuses a multipart request whose operations are an array with 400, creating no job', async () => {
    const form = new FormData();
    const operation = { query: print(IngestDocument), variables: { input: { dataset: 'batched', file: null } } };
    form.set('operations', JSON.stringify([operation, operation]));
    form.set('map', '{}');
    const answer = await answerOf(await fetch(server.url, { method: 'POST', body: form, headers: { ...CSRF_HEADER, ...server.client.authorization } }));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ errors: [{ message: 'batched operations are not supported', extensions: { code: 'BAD_REQUEST' } }] });
    expect(await jobCount(server.client)).toBe(0);
    await uploadsGone(server);
  });
});

describe('introspection and GraphiQL', () => {
  const getPage = (server: TestServer) => fetch(server.url, { headers: { accept: 'text/html', ...server.client.authorization } });

  it('are on in development: the schema introspects, GraphiQL is served, field suggestions show', async () => {
    const server = await startServer();
    try {
      const introspected = await post(server, query(getIntrospectionQuery()));
      expect(introspected.status).toBe(200);
      expect(introspected.body.data).toMatchObject({ __schema: { queryType: { name: 'Query' } } });
      const page = await getPage(server);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('GraphiQL');
      const misspelt = await post(server, query('{ jobz { totalCount } }'));
      expect(misspelt.body.errors![0].message).toContain('Did you mean "job" or "jobs"?');
    } finally {
      await server.stop();
    }
  });

  it('are off when configured: __schema and __type refused, no GraphiQL page, no field suggestions; __typename still answers', async () => {
    const server = await startServer({ introspection: false, graphiql: false });
    try {
      for (const text of [getIntrospectionQuery(), '{ __type(name: "Job") { fields { name } } }']) {
        const refused = await post(server, query(text));
        expect(refused.body.data).toBeUndefined();
        expect(refused.body.errors![0]).toMatchObject({ message: expect.stringContaining('introspection is disabled'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
      }
      expect(await post(server, query('{ __typename }'))).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
      const page = await getPage(server);
      expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
      expect(await page.text()).not.toContain('GraphiQL');
      const misspelt = await post(server, query('{ jobz { totalCount } }'));
      expect(misspelt.body.errors![0].message).toMatch(/^Cannot query field "jobz" on type "Query"/);
      expect(misspelt.body.errors![0].message).not.toContain('jobs');
    } finally {
      await server.stop();
    }
  });

  it('follow NODE_ENV: off in production, on otherwise; SLUICE_INTROSPECTION and SLUICE_GRAPHIQL override it', () => {
    const pick = (env: Record<string, string>) => (({ introspection, graphiql }) => ({ introspection, graphiql }))(loadConfig(env));
    expect(pick({})).toEqual({ introspection: true, graphiql: true });
    expect(pick({ NODE_ENV: 'development' })).toEqual({ introspection: true, graphiql: true });
    expect(pick({ NODE_ENV: 'production' })).toEqual({ introspection: false, graphiql: false });
    expect(pick({ NODE_ENV: 'production', SLUICE_INTROSPECTION: 'on', SLUICE_GRAPHIQL: 'true' })).toEqual({ introspection: true, graphiql: true });
    expect(pick({ NODE_ENV: 'production', SLUICE_GRAPHIQL: 'on' })).toEqual({ introspection: false, graphiql: true });
    expect(pick({ SLUICE_INTROSPECTION: 'off', SLUICE_GRAPHIQL: 'false' })).toEqual({ introspection: false, graphiql: false });
  });
});

describe('CSRF prevention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const CSRF_REFUSAL = { errors: [{ message: 'Required CSRF header(s) not present', extensions: { code: 'CSRF_REFUSED' } }] };

  /** The `operations` and `map` fields and a small CSV, as a multipart body. */
  function uploadForm(dataset: string): FormData {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: print(IngestDocument), variables: { input: { dataset, file: null } } }));
    form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.set('0', new Blob(['a\n1\n']), 'a.csv');
    return form;
  }

  it('refuses a multipart upload without the header with 403: no job, nothing spooled; with it, the upload is accepted', async () => {
    const refused = await answerOf(await fetch(server.url, { method: 'POST', body: uploadForm('csrf'), headers: server.client.authorization }));
    expect(refused).toMatchObject({ status: 403, body: CSRF_REFUSAL });
    expect(await jobCount(server.client)).toBe(0);
    await uploadsGone(server);

    const accepted = await answerOf(await fetch(server.url, { method: 'POST', body: uploadForm('csrf'), headers: { ...CSRF_HEADER, ...server.client.authorization } }));
    expect(accepted.status).toBe(200);
    expect(accepted.body.data).toMatchObject({ ingest: { job: { dataset: { name: 'csrf' } }, userErrors: [] } });
    expect(await jobCount(server.client)).toBe(1);
  });

  it('answers 403 before reading the body: a multipart request that declares 64 MiB and sends 64 KiB of it is answered', async () => {
    const boundary = 'csrf-boundary';
    const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const request = httpRequest(
        server.url,
        { method: 'POST', agent: false, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(64 * 1024 * 1024), ...server.client.authorization } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            request.destroy();
            resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          });
        },
      );
      request.on('error', reject);
      request.write(`--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: print(IngestDocument), variables: { input: { dataset: 'x', file: null } } })}\r\n`);
      request.write(`--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n`);
      request.write(`--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.csv"\r\n\r\n${'a\n'.repeat(32 * 1024)}`);
    });
    expect(answer).toEqual({ status: 403, body: CSRF_REFUSAL });
    expect(await arrivingUploads(server.dataDir)).toEqual([]);
    expect(await jobCount(server.client)).toBe(1); // the one accepted above
  });

  it('refuses form-urlencoded and text/plain POSTs without the header with 403; with it they reach GraphQL', async () => {
    const form = `query=${encodeURIComponent('{ jobs { totalCount } }')}`;
    expect(await post(server, form, {}, 'application/x-www-form-urlencoded')).toMatchObject({ status: 403, body: CSRF_REFUSAL });
    expect(await post(server, JSON.stringify(query('{ __typename }')), {}, 'text/plain')).toMatchObject({ status: 403, body: CSRF_REFUSAL });

    expect(await post(server, form, CSRF_HEADER, 'application/x-www-form-urlencoded')).toMatchObject({ status: 200, body: { data: { jobs: { totalCount: 1 } } } });
    // Past the CSRF check, Yoga has no parser for text/plain.
    expect((await post(server, JSON.stringify(query('{ __typename }')), CSRF_HEADER, 'text/plain')).status).toBe(415);
  });

  it('refuses a GET query without the header with 403; a JSON POST needs no header', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ __typename }')}`;
    expect(await answerOf(await fetch(url, { headers: server.client.authorization }))).toMatchObject({ status: 403, body: CSRF_REFUSAL });
    expect(await answerOf(await fetch(url, { headers: { ...CSRF_HEADER, ...server.client.authorization } }))).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
    expect(await post(server, query('{ __typename }'))).toMatchObject({ status: 200, body: { data: { __typename: 'Query' } } });
  });
});
