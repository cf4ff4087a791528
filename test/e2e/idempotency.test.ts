import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestDocument } from '../generated/graphql';
import { writeText } from '../helpers/files';
import { jobCount, submitRefused } from '../helpers/queries';
import { CLEAN_SPOOL, spoolContents, startServer, type TestServer, until, waitForJob } from '../helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function ingestWithKey(idempotencyKey: string, path: string) {
  const answer = await server.client.upload(IngestDocument, { input: { dataset: 'idempotent', idempotencyKey } }, path);
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
    await until(() => spoolContents(server.dataDir), (contents) => JSON.stringify(contents) === JSON.stringify(CLEAN_SPOOL), 'an empty spool');
  });

  it('refuses the same key with a different file (IDEMPOTENCY_KEY_REUSED), creating nothing', async () => {
    const before = await jobCount(server.client);
    const errors = await submitRefused(server.client, { dataset: 'idempotent', idempotencyKey: 'key-1' }, await writeText('b.csv', 'id\n3\n'));
    expect(errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect(await jobCount(server.client)).toBe(before);
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
