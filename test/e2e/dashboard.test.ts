import { rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnInput, DatasetDocument, JobIssuesDocument } from '../generated/graphql';
import { type OpenedPage, openPage } from '../helpers/browser';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv, writeText } from '../helpers/files';
import { ingest } from '../helpers/queries';
import { smallDataset } from '../helpers/results';
import { startReceiver } from '../helpers/receiver';
import { download, records } from '../helpers/rejected-rows';
import { startServer, type TestServer, until, waitForJob } from '../helpers/server';

// The web dashboard at GET /, in Chromium against a real server: the key prompt, an upload followed
// live, a job's issues, rejected rows and webhook deliveries, cancelling, datasets; and what the page
// may do (its CSP, its requests, its size). Screenshots go to /tmp/dashboard-*.png.

/** What Chromium logs for a 401 answer: the key check without a key, or with a wrong one. */
const KEY_CHECK_REFUSED = /^Failed to load resource: the server responded with a status of 401/;
const BIG_ROWS = 200_000;
const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Rows 1..120 of id, name, email: every even row's id is not a number, so 60 issues, two pages of them. */
const MIXED_ROWS = 120;
const mixedLine = (i: number) => `${i % 2 === 0 ? `x${i}` : i},Person ${i},person${i}@example.com`;
const MIXED_COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true },
  { name: 'name', type: 'STRING', required: true },
  { name: 'email', type: 'EMAIL' },
];

let server: TestServer;
let home: string;
let files: string;
let bigCsv: string;
beforeAll(async () => {
  server = await startServer({ webhookAllowPrivate: true });
  home = `${new URL(server.url).origin}/`;
  files = await tempDir();
  bigCsv = join(files, 'people.csv');
  await writeGeneratedCsv(bigCsv, PERSON_HEADER, BIG_ROWS, personLine);
});
afterAll(async () => {
  await server?.stop();
  if (files) await rm(files, { recursive: true, force: true });
});

/** Opens the dashboard, gives its prompt the key, runs `test` on the page, and closes it. */
async function signedIn(test: (page: Page, opened: OpenedPage) => Promise<void>): Promise<void> {
  const opened = await openPage(home);
  try {
    await opened.page.getByLabel('API key').fill(server.apiKey!);
    await opened.page.getByRole('button', { name: 'Save' }).click();
    await opened.page.getByLabel('File', { exact: true }).waitFor();
    await test(opened.page, opened);
    expect(problems(opened)).toEqual([]);
  } finally {
    await opened.close();
  }
}

/** Everything that went wrong in the page, but the 401s its key check is made of. */
function problems(opened: OpenedPage): string[] {
  return [...opened.consoleErrors.filter((text) => !KEY_CHECK_REFUSED.test(text)), ...opened.pageErrors, ...opened.foreignRequests];
}

/** The job list's item of the job on `dataset`. */
function jobItem(page: Page, dataset: string): Locator {
  return page.getByRole('listitem').filter({ has: page.getByRole('link', { name: dataset, exact: true }) });
}

/** Uploads through the form; resolves with the values its upload progress bar showed (bytes sent), as a MutationObserver saw them. */
async function uploadThroughPage(page: Page, path: string, dataset: string): Promise<number[]> {
  await page.getByLabel('File', { exact: true }).setInputFiles(path);
  await page.getByLabel('Dataset', { exact: true }).fill(dataset);
  await page.evaluate(() => {
    const sent: number[] = [];
    Object.assign(window, { uploadSent: sent });
    new MutationObserver(() => {
      const bar = document.querySelector<HTMLProgressElement>('progress[aria-label="Upload progress"]');
      if (bar && bar.value !== sent.at(-1)) sent.push(bar.value);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByRole('status').filter({ hasText: 'created' }).waitFor();
  return page.evaluate(() => (window as { uploadSent?: number[] }).uploadSent!);
}

/** Polls the progress bar's aria-valuenow until 100, taking a screenshot the first time it is seen between 0 and 100; returns every value seen. */
async function followProgress(page: Page, bar: Locator, screenshot: string): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 90_000;
  while (seen.at(-1) !== 100) {
    if (Date.now() > deadline) throw new Error(`the job did not reach 100%; seen ${seen}`);
    const percent = Number(await bar.getAttribute('aria-valuenow'));
    if (percent > 0 && percent < 100 && !seen.some((value) => value > 0 && value < 100)) await page.screenshot({ path: screenshot });
    seen.push(percent);
    await page.waitForTimeout(50);
  }
  return seen;
}

/** The body rows of a table region as their cells' texts, read at once (between two renders). */
function tableRows(region: Locator): Promise<string[][]> {
  return region.evaluate((element) => [...element.querySelectorAll('tbody tr')].map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.innerText)));
}

/** A page of the job's issues from the API, as the page's table shows them. */
async function apiIssues(id: string, after?: string | null) {
  const { job } = await server.client.request(JobIssuesDocument, { id, first: 50, after });
  const { edges, pageInfo } = job!.issues;
  return { rows: edges.map(({ node }) => [String(node.row), node.column ?? '—', node.code, node.message, node.value ?? '']), endCursor: pageInfo.endCursor };
}

describe('the dashboard', () => {
  it('asks for the API key, keeps it in sessionStorage and out of the URL, and says when a key is refused', async () => {
    const opened = await openPage(home);
    try {
      const { page } = opened;
      await page.getByLabel('API key').fill('sluice_wrong_key');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
      expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([]);

      await page.getByLabel('API key').fill(server.apiKey!);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByLabel('File', { exact: true }).waitFor();
      expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([server.apiKey]);
      expect(page.url()).toBe(home);
      expect(problems(opened)).toEqual([]);
      expect(opened.consoleErrors.filter((text) => KEY_CHECK_REFUSED.test(text))).toHaveLength(2); // without a key, then the wrong one
    } finally {
      await opened.close();
    }
  });

  it('uploads a file and follows its job live to COMPLETED at 100%, without reloading', async () => {
    await signedIn(async (page) => {
      await page.setViewportSize(WIDE);
      await page.evaluate(() => Object.assign(window, { loadedOnce: true }));
      const sent = await uploadThroughPage(page, bigCsv, 'people-page');
      expect(sent.some((bytes) => bytes > 0), `upload progress seen: ${sent}`).toBe(true);

      const item = jobItem(page, 'people-page');
      const seen = await followProgress(page, item.getByRole('progressbar'), '/tmp/dashboard-jobs-running.png');
      expect(seen.some((percent) => percent > 0 && percent < 100), `progress seen: ${seen}`).toBe(true);
      await item.getByText('COMPLETED', { exact: true }).waitFor();
      expect(await page.evaluate(() => (window as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
      const id = decodeURIComponent((await item.getByRole('link').getAttribute('href'))!.split('/')[2]);
      expect(await waitForJob(server.client, id)).toMatchObject({ status: 'COMPLETED', progress: { rowsWritten: BIG_ROWS } });
    });
  });

  it('sends the reading options typed in the form: lines to skip and null values', async () => {
    await signedIn(async (page) => {
      const path = join(files, 'preamble.csv');
      await writeFile(path, 'Exported 2024-01-31\nid,score\n1,NA\n2, - \n3,7\n');
      await page.getByLabel('Skip rows').fill('1');
      await page.getByLabel('Null values').fill('NA, -');
      await uploadThroughPage(page, path, 'reading-page');
      const item = jobItem(page, 'reading-page');
      await item.getByText('COMPLETED', { exact: true }).waitFor();
      expect((await smallDataset(server.client, 'reading-page')).values).toEqual([
        { id: 1, score: null },
        { id: 2, score: null },
        { id: 3, score: 7 },
      ]);
    });
  });

  it('upserts by the key typed in the form, and shows what was inserted, updated and unchanged', async () => {
    const first = await ingest(server.client, { dataset: 'keyed-page', key: ['id'], columns: [{ name: 'id', type: 'INTEGER' }, { name: 'score', type: 'INTEGER' }] }, await writeText('keyed.csv', 'id,score\n1,5\n2,6\n'));
    expect(first.status).toBe('COMPLETED');
    await signedIn(async (page) => {
      const path = join(files, 'changes.csv');
      await writeFile(path, 'id,score\n1,5\n2,7\n3,8\n');
      await page.getByLabel('Mode').selectOption('UPSERT');
      await page.getByLabel('Key', { exact: true }).fill('id');
      await uploadThroughPage(page, path, 'keyed-page');
      const item = jobItem(page, 'keyed-page').first();
      await item.getByText('COMPLETED', { exact: true }).waitFor();
      await item.getByRole('link').click();
      await page.getByText('1 / 1 / 1').waitFor();
    });
    expect((await smallDataset(server.client, 'keyed-page')).values).toEqual([{ id: 1, score: 5 }, { id: 2, score: 7 }, { id: 3, score: 8 }]);
  });

  it('runs a dry run when "Dry run" is checked, marks it in the list and on its page, and writes nothing', async () => {
    await signedIn(async (page) => {
      const path = join(files, 'trial.csv');
      await writeFile(path, 'id,score\n1,5\n2,6\n');
      await page.getByLabel('Dry run').check();
      await uploadThroughPage(page, path, 'trial-page');
      const item = jobItem(page, 'trial-page');
      await item.getByText('COMPLETED', { exact: true }).waitFor();
      await item.getByText('dry run', { exact: true }).waitFor();
      await item.getByRole('link').click();
      await page.getByText('validated and counted, nothing written to the dataset').waitFor();
      expect((await server.client.request(DatasetDocument, { name: 'trial-page', first: 1 })).dataset).toBeNull();
    });
  });

  it("shows a job's issues a page at a time, links its rejected rows, and redelivers its webhook", async () => {
    const receiver = await startReceiver();
    try {
      const path = join(files, 'mixed.csv');
      await writeGeneratedCsv(path, 'id,name,email', MIXED_ROWS, mixedLine);
      const job = await ingest(server.client, { dataset: 'mixed', columns: MIXED_COLUMNS, webhookUrl: receiver.url }, path);
      expect(job.progress.rowsRejected).toBe(MIXED_ROWS / 2);
      await signedIn(async (page) => {
        await page.setViewportSize(WIDE);
        await jobItem(page, 'mixed').getByRole('link').click();
        const issues = page.getByRole('region', { name: 'Issues table' });
        const first = await apiIssues(job.id);
        expect(first.rows).toHaveLength(50);
        await until(() => tableRows(issues), (rows) => isDeepStrictEqual(rows, first.rows), 'the first page of issues');
        await page.screenshot({ path: '/tmp/dashboard-job-issues.png' });
        await page.setViewportSize(PHONE);
        await page.getByRole('heading', { name: 'Issues' }).scrollIntoViewIfNeeded();
        await page.screenshot({ path: '/tmp/dashboard-job-issues-390.png' });
        await page.getByRole('button', { name: 'Next page' }).click();
        await page.getByText('Page 2', { exact: true }).waitFor();
        const second = await apiIssues(job.id, first.endCursor);
        await until(() => tableRows(issues), (rows) => isDeepStrictEqual(rows, second.rows), 'the second page of issues');

        const file = await download((await page.getByRole('link', { name: 'Download rejected rows' }).getAttribute('href'))!);
        expect(file).toMatchObject({ status: 200, type: 'text/csv; charset=utf-8' });
        const [header, ...rejected] = records(file.body);
        expect(header).toEqual(['_row', '_errors', 'id', 'name', 'email']);
        expect(rejected.map((row) => row[0])).toEqual(Array.from({ length: MIXED_ROWS / 2 }, (_, i) => String(2 * (i + 1))));

        await until(async () => receiver.requests.length, (n) => n === 1, 'the webhook');
        await page.getByRole('button', { name: 'Redeliver' }).click();
        await until(async () => receiver.requests.length, (n) => n === 2, 'the redelivery');
        expect(receiver.requests[1].headers['webhook-id']).toBe(receiver.requests[0].headers['webhook-id']);
      });
    } finally {
      await receiver.close();
    }
  });

  it('cancels a running job from its page', async () => {
    await signedIn(async (page) => {
      await page.setViewportSize(PHONE);
      await uploadThroughPage(page, bigCsv, 'people-cancel');
      await page.screenshot({ path: '/tmp/dashboard-jobs-390.png', fullPage: true });
      await jobItem(page, 'people-cancel').getByRole('link').click();
      await page.getByRole('button', { name: 'Cancel' }).waitFor();
      await page.screenshot({ path: '/tmp/dashboard-job-running-390.png' });
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.locator('.job-head').getByText('CANCELLED', { exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
      const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
      expect((await waitForJob(server.client, id)).status).toBe('CANCELLED');
    });
  });

  it("lists the datasets with their row counts, and shows a dataset's columns and first rows", async () => {
    const path = join(files, 'few.csv');
    await writeGeneratedCsv(path, PERSON_HEADER, 3, personLine);
    await ingest(server.client, { dataset: 'few-people', columns: PERSON_COLUMNS }, path);
    await signedIn(async (page) => {
      await page.setViewportSize(WIDE);
      await page.getByRole('link', { name: 'Datasets' }).click();
      const listed = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'few-people', exact: true }) });
      await listed.getByText('3 rows').waitFor();
      await listed.getByRole('link').click();
      const rows = page.getByRole('region', { name: 'Rows table' });
      await rows.waitFor();
      const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
      expect(await tableRows(rows)).toEqual([1, 2, 3].map((i) => [String(i), ...PERSON_COLUMNS.map(({ name }) => shown(expectedPerson(i)[name]))]));
      await page.screenshot({ path: '/tmp/dashboard-dataset.png' });
    });
  });

  it('is served with a CSP without inline scripts, gzip-compressed and cached by content hash, and makes no request elsewhere', async () => {
    await signedIn(async (page, opened) => {
      const csp = opened.response!.headers()['content-security-policy'];
      const directives = new Map(csp.split(';').map((directive) => directive.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('base-uri')).toEqual(["'none'"]);
      await page.getByText('live', { exact: true }).waitFor(); // the WebSocket is let through
      await page.getByRole('link', { name: 'Datasets' }).click();
      await page.getByRole('heading', { name: 'Datasets' }).waitFor();
    });
    const transferred = await transferredSize();
    expect(transferred).toBeLessThan(100_000);
  });
});

/** The page and the assets it names, each fetched as a browser does (gzip accepted), checked, and their compressed sizes summed. */
async function transferredSize(): Promise<number> {
  const gzip = { 'accept-encoding': 'gzip, deflate, br' };
  const page = await fetch(home, { headers: gzip });
  expect(page.headers.get('cache-control')).toBe('no-cache');
  const assets = [...(await page.text()).matchAll(/(?:href|src)="(assets\/[^"]+)"/g)].map(([, path]) => home + path);
  expect(assets.length).toBe(3); // icon, styles, script
  let total = Number(page.headers.get('content-length'));
  for (const url of assets) {
    const asset = await fetch(url, { headers: gzip });
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    total += Number(asset.headers.get('content-length'));
  }
  return total;
}

/** A GET of `path` exactly as written (fetch would resolve its dots first). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(new URL(home), { path }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the dashboard’s files', () => {
  it('answers HEAD like GET, unknown asset names with 404, and nothing outside its folder', async () => {
    const identity = { 'accept-encoding': 'identity' };
    const head = await fetch(home, { method: 'HEAD', headers: identity });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(Number(head.headers.get('content-length'))).toBe((await (await fetch(home, { headers: identity })).arrayBuffer()).byteLength);
    for (const path of ['/assets/nope.js', '/assets/index.html', '/assets/..%2F..%2Fpackage.json']) {
      expect((await rawGet(path)).status, path).toBe(404);
    }
    // Dot segments resolve to /package.json before anything routes the request: not the dashboard's, and not the file.
    for (const path of ['/assets/../../package.json', '/assets/%2e%2e/%2e%2e/package.json']) {
      const answer = await rawGet(path);
      expect(answer.status, path).not.toBe(200);
      expect(answer.body).not.toContain('"dependencies"');
    }
  });
});

describe('the dashboard with authentication off', () => {
  it('needs no key', async () => {
    const open = await startServer({ authEnabled: false });
    const opened = await openPage(`${new URL(open.url).origin}/`);
    try {
      await opened.page.getByLabel('File', { exact: true }).waitFor();
      expect(await opened.page.getByLabel('API key').count()).toBe(0);
      expect([...opened.consoleErrors, ...opened.pageErrors, ...opened.foreignRequests]).toEqual([]);
    } finally {
      await opened.close();
      await open.stop();
    }
  });
});
