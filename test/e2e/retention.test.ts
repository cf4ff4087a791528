import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobDocument } from '../generated/graphql';
import { writeText } from '../helpers/files';
import { allRows, ingest } from '../helpers/queries';
import { startServer, type TestServer, until } from '../helpers/server';
import { queryStoreValue } from '../helpers/store';

let server: TestServer;
const RETENTION_MS = 1500;

beforeAll(async () => {
  server = await startServer({ jobRetentionMs: RETENTION_MS, cleanupIntervalMs: 100 });
});
afterAll(async () => {
  await server?.stop();
});

/** The job's rows in the engine's storage: itself and its issues. */
async function stored(id: string): Promise<{ jobs: number; issues: number }> {
  return {
    jobs: await queryStoreValue<number>(server.dataDir, 'SELECT count(*) FROM jobs WHERE id = ?', id),
    issues: await queryStoreValue<number>(server.dataDir, 'SELECT count(*) FROM job_issues WHERE job_num = (SELECT num FROM jobs WHERE id = ?)', id),
  };
}

describe('retention', () => {
  it('deletes a finished job with its issues after the retention period, keeping the dataset rows', async () => {
    const job = await ingest(server.client, { dataset: 'kept', columns: [{ name: 'id', type: 'INTEGER' }] }, await writeText('r.csv', 'id\n1\nx\n2\n'));
    expect(job.status).toBe('COMPLETED');
    expect(Date.parse(job.expiresAt!)).toBe(Date.parse(job.completedAt!) + RETENTION_MS);
    expect(await stored(job.id)).toEqual({ jobs: 1, issues: 1 });

    await until(async () => (await server.client.request(JobDocument, { id: job.id })).job, (found) => found === null, 'the job to expire', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(job.expiresAt!));
    expect(await stored(job.id)).toEqual({ jobs: 0, issues: 0 });
    expect((await allRows(server.client, 'kept')).map((row) => row.values)).toEqual([{ id: 1 }, { id: 2 }]);
  });
});
