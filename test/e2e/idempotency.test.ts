import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestDocument } from '../generated/graphql';
import { writeText } from '../helpers/files';
import { ingest, type IngestFileInput, jobCount, submitRefused } from '../helpers/queries';
import { startServer, type TestServer, uploadsGone, waitForJob } from '../helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function ingestWithKey(idempotencyKey: string, path: string, input: IngestFileInput = { dataset: 'idempotent' }) {
  const answer = await server.client.upload(IngestDocument, { input: { ...input, idempotencyKey } }, path);
  expect(answer.errors).toBeUndefined();
  return answer.data!.ingest;
}

describe('idempotencyKey', () => {
  it('returns the existing job for the same key and the same file, and creates nothing', async () => {
    const file = await writeText('a.csv', 'id\n1\n2\n');
    const first = await ingestWithKey('key-1', file);
    expect(first.userErrors).toEqual([]);
    const done = await waitForJob(server.client, first.job!.id);
    const again = await ingestWithKey('key-1', await writeText('a-copy.csv', 'id\n1\n2\n'));
    expect(again.userErrors).toEqual([]);
    expect(again.job!.id).toBe(first.job!.id);
    expect(again.job!.status).toBe('COMPLETED');
    expect(await jobCount(server.client)).toBe(1);
    expect((await waitForJob(server.client, first.job!.id)).sequence).toBe(done.sequence);
    // The second upload is not kept: the spool holds nothing once the job has ended.
    await uploadsGone(server, 60_000);
  });

  it('refuses the same key with a different file (IDEMPOTENCY_KEY_REUSED), creating nothing', async () => {
    const before = await jobCount(server.client);
    const errors = await submitRefused(server.client, { dataset: 'idempotent', idempotencyKey: 'key-1' }, await writeText('b.csv', 'id\n3\n'));
    expect(errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect(await jobCount(server.client)).toBe(before);
  });

  it("answers a retry with the same key and file with the earlier job, even after the dataset's columns changed", async () => {
    // A first job that fails leaves the dataset without columns, so the keyed job below sets them...
    const binary = await ingest(server.client, { dataset: 'drifting' }, await writeText('binary.csv', 'id\n1\n\0\n'));
    expect(binary.error?.code).toBe('BINARY_FILE');
    const keyed = { dataset: 'drifting', idempotencyKey: 'drift-key', columns: [{ name: 'id', type: 'INTEGER' as const }], maxErrors: 0 };
    const first = await ingest(server.client, keyed, await writeText('words.csv', 'id\nnot-a-number\n'));
    expect(first.error?.code).toBe('TOO_MANY_ERRORS');
    // ...and, failing, forgets them: another job gives the dataset other columns.
    const other = await ingest(server.client, { dataset: 'drifting', columns: [{ name: 'id', type: 'STRING' }] }, await writeText('words.csv', 'id\nnot-a-number\n'));
    expect(other.status).toBe('COMPLETED');
    const before = await jobCount(server.client);

    const retry = await ingestWithKey('drift-key', await writeText('words-again.csv', 'id\nnot-a-number\n'), keyed);
    expect(retry.userErrors).toEqual([]);
    expect(retry.job).toMatchObject({ id: first.id, status: 'FAILED' });
    expect(await jobCount(server.client)).toBe(before);
  });

  it('answers other content under a used key with IDEMPOTENCY_KEY_REUSED alone, whatever else the request gets wrong', async () => {
    const columns = [{ name: 'id', type: 'INTEGER' as const }];
    await ingest(server.client, { dataset: 'piled', idempotencyKey: 'pile-key', columns }, await writeText('one.csv', 'id\n1\n'));
    const before = await jobCount(server.client);
    const errors = await submitRefused(
      server.client,
      // Each of these alone is a userError of its own: a schema mismatch, a bad delimiter and maxErrors, the wrong format.
      { dataset: 'piled', idempotencyKey: 'pile-key', columns: [{ name: 'id', type: 'STRING' }], csv: { delimiter: ';;' }, maxErrors: -1, format: 'XLSX' },
      await writeText('two.csv', 'id\n2\n'),
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect(await jobCount(server.client)).toBe(before);
    await uploadsGone(server, 60_000);
  });

  it('treats different keys as different jobs, and refuses an empty or overlong key', async () => {
    const file = await writeText('c.csv', 'id\n4\n');
    const one = await ingestWithKey('key-2', file);
    const two = await ingestWithKey('key-3', file);
    expect(one.job!.id).not.toBe(two.job!.id);
    for (const key of ['', 'k'.repeat(256)]) {
      const errors = await submitRefused(server.client, { dataset: 'idempotent', idempotencyKey: key }, file);
      expect(errors).toEqual([expect.objectContaining({ code: 'INVALID_IDEMPOTENCY_KEY' })]);
    }
  });
});
