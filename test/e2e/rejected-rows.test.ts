import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnInput } from '../generated/graphql';
import { tempDir, writeText, writeWorkbook } from '../helpers/files';
import { ingest } from '../helpers/queries';
import { download, records, rejectedRecords, rejectedRowsOf } from '../helpers/rejected-rows';
import { removeDataDir, startServer, type TestServer } from '../helpers/server';

// The rejected-rows file: Job.rejectedRowsUrl, a signed link that works without a key until it
// expires, to a CSV of each rejected row's cells as the file had them.

const COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true },
  { name: 'name', type: 'STRING', required: true },
  { name: 'email', type: 'EMAIL' },
];

/** Data rows 1..6 of a file with a header: 1, 4 and 6 are valid; 2, 3 and 5 are rejected for different reasons. */
const MIXED = [
  'ID,Name,Email',
  '1,Ada,ada@example.com',
  'two,"Lovelace, Ada",not-an-email', // not an integer and not an email
  '3,,"multi\nline@x"', // name missing; a quoted cell across lines
  '4,Émile,emile@example.com',
  '5,"short row"', // too few fields
  '6,Zoë,zoe@example.com',
].join('\r\n');

describe('the rejected-rows file', () => {
  let server: TestServer;
  let url: string;
  let jobId: string;
  beforeAll(async () => {
    server = await startServer({ rejectedRowsLinkTtlMs: 60_000 });
    const job = await ingest(server.client, { dataset: 'people', columns: COLUMNS }, await writeText('mixed.csv', MIXED));
    expect(job).toMatchObject({ status: 'COMPLETED', progress: { rowsWritten: 3, rowsRejected: 3 } });
    jobId = job.id;
    url = (await rejectedRowsOf(server.client, jobId)).rejectedRowsUrl!;
  });
  afterAll(() => server.stop());

  it('is a CSV of the rejected rows, with their row numbers, issues and cells as the file had them', async () => {
    expect(url.startsWith(`${new URL(server.url).origin}/rejected-rows/${jobId}.csv?`)).toBe(true);
    const file = await download(url);
    expect(file).toMatchObject({ status: 200, type: 'text/csv; charset=utf-8' });
    expect(file.disposition).toBe(`attachment; filename="rejected-rows-${jobId}.csv"`);
    const [header, ...rows] = records(file.body);
    expect(header).toEqual(['_row', '_errors', 'ID', 'Name', 'Email']);
    expect(rows.map((row) => [row[0], ...row.slice(2)])).toEqual([
      ['2', 'two', 'Lovelace, Ada', 'not-an-email'],
      ['3', '3', '', 'multi\nline@x'],
      ['5', '5', 'short row'],
    ]);
    expect(rows[0][1]).toMatch(/^id .*; email .*$/);
    expect(rows[1][1]).toMatch(/^name /);
    expect(rows[2][1]).toMatch(/2 field\(s\) where 3 are expected/);
  });

  it('answers only a genuine, current link: a tampered one is refused with 403 and says nothing more', async () => {
    const other = await ingest(server.client, { dataset: 'people' }, await writeText('other.csv', 'ID,Name,Email\nx,y,z\n'));
    const link = new URL(url);
    const signature = link.searchParams.get('signature')!;
    const tampered = [
      url.replace(`signature=${signature}`, `signature=${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`),
      url.replace(`expires=${link.searchParams.get('expires')}`, `expires=${Number(link.searchParams.get('expires')) + 3600}`),
      url.replace(jobId, other.id),
      url.replace(/&signature=[^&]*/, ''),
      url.replace(/expires=[^&]*&/, ''),
    ];
    for (const forged of tampered) expect(await download(forged)).toMatchObject({ status: 403, body: 'this link is not valid\n' });
    expect((await download(`${link.origin}/rejected-rows/job_unknown.csv${link.search}`)).status).toBe(403);
  });

  it('is null while there is nothing to download: a job that rejected no row', async () => {
    const clean = await ingest(server.client, { dataset: 'clean', columns: COLUMNS }, await writeText('clean.csv', 'id,name\n1,a\n'));
    expect(await rejectedRowsOf(server.client, clean.id)).toMatchObject({ status: 'COMPLETED', rejectedRowsUrl: null });
  });

  it('holds the cells of an XLSX sheet as text: numbers, dates and strings', async () => {
    const path = await writeWorkbook('mixed.xlsx', { Sheet1: [['id', 'name'], [1, 'ok'], [2.5, 'half'], [new Date(Date.UTC(2024, 1, 29)), null]] });
    const job = await ingest(server.client, { dataset: 'sheet', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING', required: true }] }, path, 'mixed.xlsx');
    expect(job.progress.rowsRejected).toBe(2);
    const [header, ...rows] = await rejectedRecords(server.client, job.id);
    expect(header).toEqual(['_row', '_errors', 'id', 'name']);
    expect(rows.map((row) => [row[0], ...row.slice(2)])).toEqual([
      ['2', '2.5', 'half'],
      ['3', '2024-02-29T00:00:00.000Z'],
    ]);
  });
});

describe('bounds, expiry and restarts', () => {
  it('keeps at most the configured rows and says the file is truncated', async () => {
    const server = await startServer({ issueLimits: { perRow: 20, perJob: 10_000, rejectedRows: 2, rejectedBytes: 1024 ** 2 } });
    try {
      const bad = ['a,b', ...Array.from({ length: 5 }, (_, i) => `x${i},`)].join('\n');
      const job = await ingest(server.client, { dataset: 'bounded', columns: [{ name: 'a', type: 'INTEGER' }, { name: 'b', type: 'STRING' }] }, await writeText('bad.csv', bad));
      const rows = await rejectedRecords(server.client, job.id);
      expect(rows.map((row) => row[0])).toEqual(['_row', '1', '2', '']);
      expect(rows[3][1]).toMatch(/^truncated: 3 more rejected row\(s\) are not in this file; a job keeps at most 2 rejected rows/);
    } finally {
      await server.stop();
    }
  });

  it('a link minted before a restart still works after it (the signing key is kept); an expired one is refused with 410', async () => {
    const dataDir = await tempDir();
    try {
      let server = await startServer({}, dataDir);
      let jobId: string;
      let minted: string;
      try {
        jobId = (await ingest(server.client, { dataset: 'expiring', columns: COLUMNS }, await writeText('mixed.csv', MIXED))).id;
        minted = (await rejectedRowsOf(server.client, jobId)).rejectedRowsUrl!;
      } finally {
        await server.stop();
      }
      server = await startServer({ rejectedRowsLinkTtlMs: 1000 }, dataDir);
      try {
        // The restarted server listens on another port: the same link, sent to where it is now.
        const moved = new URL(minted);
        moved.host = new URL(server.url).host;
        expect((await download(moved.href)).status).toBe(200);
        const short = (await rejectedRowsOf(server.client, jobId)).rejectedRowsUrl!;
        await new Promise((resolve) => setTimeout(resolve, 2100)); // links expire on whole seconds
        expect(await download(short)).toMatchObject({ status: 410, body: 'this link has expired: ask for the job again to get a new one\n' });
      } finally {
        await server.stop();
      }
    } finally {
      await removeDataDir(dataDir);
    }
  });
});
