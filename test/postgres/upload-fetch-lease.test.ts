import { afterEach, expect, it, vi } from 'vitest';
import { delay } from '../../src/delay';
import { writeText } from '../helpers/files';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../helpers/postgres';
import { submit } from '../helpers/queries';
import { startServer, type TestServer, waitForJob } from '../helpers/server';

// With PostgreSQL a job's upload is copied out of the database before its worker starts; a large
// upload (or a slow database) can take longer than a lease, which must not lapse meanwhile.

let server: TestServer | undefined;
const schema = freshSchemaName();

afterEach(async () => {
  await server?.stop();
  await dropSchema(schema);
});

it('keeps the lease of a job whose upload takes longer than a lease to copy to scratch space: it runs once, not interrupted', async () => {
  const leaseMs = 2_000;
  server = await startServer({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, leaseMs, heartbeatIntervalMs: 250 });
  const blobs = server.app.engine.blobs;
  const copy = blobs.localFile.bind(blobs);
  // The database is slow to give the upload back: three leases' time.
  const slowCopy = vi.spyOn(blobs, 'localFile').mockImplementation(async (key) => {
    await delay(3 * leaseMs);
    return copy(key);
  });
  try {
    const job = await submit(server.client, { dataset: 'slow-fetch' }, await writeText('slow.csv', 'id,name\n1,a\n2,b\n'));
    const done = await waitForJob(server.client, job.id, undefined, 30_000);
    expect(slowCopy).toHaveBeenCalledTimes(1);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1, error: null, progress: { rowsWritten: 2 } });
  } finally {
    slowCopy.mockRestore();
  }
});
