import { getIntrospectionQuery } from 'graphql';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_PLACEHOLDER } from '../../src/server/graphiql';
import { openPage } from '../helpers/browser';
import { CSRF_HEADER } from '../helpers/client';
import { writeText } from '../helpers/files';
import { ingest } from '../helpers/queries';
import { startServer, type TestServer } from '../helpers/server';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** GraphiQL's panes: the operation and headers editors, and the result. */
const editors = {
  operation: 'section.graphiql-query-editor .monaco-editor',
  headers: '.monaco-editor[data-uri$="request-headers.json"]',
  result: '.result-window',
};

/** What the editor shows, with Monaco's non-breaking spaces as spaces. */
async function textOf(editor: Locator): Promise<string> {
  return (await editor.innerText()).replace(/\u00a0/g, ' ');
}

/** Replaces everything in `editor` with `text`, pasted from the clipboard as a user would. */
async function paste(page: Page, editor: Locator, text: string): Promise<void> {
  await page.evaluate((value) => navigator.clipboard.writeText(value), text);
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
}

/** Runs the operation in the editor, waits until the result pane holds `expected`, and reads the JSON it shows. */
async function run<T>(page: Page, expected: string): Promise<T> {
  await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
  const result = page.locator(editors.result);
  await result.filter({ hasText: expected }).waitFor();
  // The pane wraps long lines, inside strings too; none of the values here has a space of its own.
  return JSON.parse((await result.innerText()).replace(/\s+/g, '')) as T;
}

/** A POST of `query` without a key (or with this Authorization header), answered as status and parsed body. */
async function anonymous(query: string, authorization?: string, operationName?: string) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, operationName }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> } };
}

describe('GraphiQL in a browser', () => {
  it('works offline from the server alone under its CSP: the schema without a key, then queries and subscriptions with the pasted key', async () => {
    const job = await ingest(server.client, { dataset: 'graphiql' }, await writeText('people.csv', 'id,name\n1,Ann\n2,Bob\n'));
    const browser = await openPage(server.url);
    try {
      const { page, response } = browser;
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });

      // Scripts: the page's own, by hash, and nothing else (no 'unsafe-inline', no 'unsafe-eval').
      const csp = response!.headers()['content-security-policy'].split(/;\s*/);
      expect(csp).toContain("default-src 'none'");
      expect(csp.find((directive) => directive.startsWith('script-src'))).toMatch(/^script-src 'sha256-[A-Za-z0-9+/]+=*'$/);

      const operation = page.locator(editors.operation);
      await operation.filter({ hasText: 'query LatestJobs' }).waitFor();
      expect(await page.locator('body').innerText()).not.toContain('Loading');
      // The schema came without a key: the documentation explorer lists the root types.
      await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      await page.locator('.graphiql-doc-explorer').filter({ hasText: 'Subscription' }).waitFor();

      const headers = page.locator(editors.headers);
      expect(await textOf(headers)).toContain(`"Authorization": "Bearer ${API_KEY_PLACEHOLDER}"`);
      await paste(page, headers, JSON.stringify({ Authorization: `Bearer ${server.apiKey}` }, null, 2));
      await headers.filter({ hasText: server.apiKey! }).waitFor();

      const jobs = await run<{ data: { jobs: { totalCount: number; edges: Array<{ node: { id: string; status: string } }> } } }>(page, '"totalCount"');
      expect(jobs.data.jobs.totalCount).toBe(1);
      expect(jobs.data.jobs.edges[0].node).toMatchObject({ id: job.id, status: 'COMPLETED' });
      await page.screenshot({ path: '/tmp/graphiql.png' });

      // GraphiQL sends subscriptions as GET requests over SSE: they need the CSRF header the page adds.
      const stream = page.waitForResponse((answer) => answer.headers()['content-type']?.startsWith('text/event-stream') ?? false);
      await paste(page, operation, `subscription FollowJob {\n  jobProgress(id: "${job.id}") {\n    id\n    status\n  }\n}\n`);
      // The tab takes the operation's name once GraphiQL has read the new text: what a user sees before running it.
      await page.locator('.graphiql-tab-active').filter({ hasText: 'FollowJob' }).waitFor();
      const event = await run<{ data: { jobProgress: unknown } }>(page, '"jobProgress"');
      expect(event.data.jobProgress).toEqual({ id: job.id, status: 'COMPLETED' });
      expect((await stream).status()).toBe(200);

      // The key stays in this browser's storage.
      await page.reload();
      await page.locator(editors.headers).filter({ hasText: server.apiKey! }).waitFor();

      expect(browser.foreignRequests).toEqual([]);
      expect(browser.consoleErrors).toEqual([]);
      expect(browser.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('introspection without a key, while GraphiQL is on', () => {
  it.each([
    ['without an Authorization header', undefined],
    ["with GraphiQL's placeholder", `Bearer ${API_KEY_PLACEHOLDER}`],
    ['with an unknown key', `Bearer sluice_000000000000_${'A'.repeat(43)}`],
  ])('answers the introspection query %s', async (_what, authorization) => {
    const answer = await anonymous(getIntrospectionQuery(), authorization);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ __schema: { queryType: { name: 'Query' } } });
  });

  it('answers a query of meta-fields only', async () => {
    const answer = await anonymous('{ __typename job: __type(name: "Job") { name } }');
    expect(answer.body).toEqual({ data: { __typename: 'Query', job: { name: 'Job' } } });
  });

  it.each([
    ['a field of the schema', '{ jobs { totalCount } }'],
    ['a field beside meta-fields', '{ __typename jobs { totalCount } }'],
    ['a field aliased as a meta-field', '{ __typename: jobs { totalCount } }'],
    ['a fragment spread at the root', '{ ...Jobs } fragment Jobs on Query { jobs { totalCount } }'],
    ['an inline fragment at the root', '{ ... on Query { jobs { totalCount } } }'],
    ['a mutation', 'mutation { __typename }'],
    ['a subscription', 'subscription { jobUpdates { id } }'],
    ['a document that does not parse', '{ __schema { '],
  ])('refuses %s with 401', async (_what, query) => {
    const answer = await anonymous(query);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ errors: [{ message: expect.stringContaining('API key'), extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('refuses a document with any operation other than introspection, whichever it names', async () => {
    const answer = await anonymous('query Meta { __typename } query Jobs { jobs { totalCount } }', undefined, 'Meta');
    expect(answer.status).toBe(401);
  });

  it('refuses introspection sent other than as a JSON POST (a GET, a form) with 401', async () => {
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: CSRF_HEADER });
    expect(get.status).toBe(401);
    const form = await fetch(server.url, { method: 'POST', headers: CSRF_HEADER, body: new URLSearchParams({ query: '{ __typename }' }) });
    expect(form.status).toBe(401);
  });
});

describe('with GraphiQL or introspection off', () => {
  it('serves no page and answers no introspection without a key, as before', async () => {
    const off = await startServer({ graphiql: false });
    try {
      const page = await fetch(off.url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(401);
      expect(page.headers.get('content-type')).not.toMatch(/text\/html/);
      expect(page.headers.get('content-security-policy')).toBeNull();
      expect(await page.text()).not.toContain('GraphiQL');
      const introspection = await fetch(off.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: getIntrospectionQuery() }) });
      expect(introspection.status).toBe(401);
    } finally {
      await off.stop();
    }
  });

  it('answers no introspection without a key when introspection alone is off', async () => {
    const closed = await startServer({ introspection: false });
    try {
      const introspection = await fetch(closed.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(introspection.status).toBe(401);
    } finally {
      await closed.stop();
    }
  });
});
