import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceLimits } from '../../src/config';
import { CancelJobDocument, DeleteWebhookDocument, IngestDocument, type JobFieldsFragment, RegisterWebhookDocument } from '../generated/graphql';
import { createKey } from '../helpers/cli';
import { GraphQLClient } from '../helpers/client';
import { writeText } from '../helpers/files';
import { HANGING_CELL, SLOW_PATTERN } from '../helpers/slow-pattern';
import { jobCount, submit, submitRefused, type IngestFileInput } from '../helpers/queries';
import { heldUploads, startServer, type TestServer, waitForJob } from '../helpers/server';

// Each workspace may have so many bytes of uploads waiting or running, so many such jobs, and so many
// webhook endpoints; past a limit the mutation answers a userError and creates nothing.

/** A job whose worker is busy for many seconds on one cell: it stays RUNNING, holding the only slot, until cancelled. */
const HANGING: IngestFileInput = { dataset: 'hanging', columns: [{ name: 'code', type: 'STRING', pattern: SLOW_PATTERN }] };
const HANGING_CSV = `code\n${HANGING_CELL}\n`;
const SMALL: IngestFileInput = { dataset: 'small', columns: [{ name: 'id', type: 'INTEGER' }] };

/** A CSV of `bytes` bytes for SMALL. */
const smallCsv = (bytes: number) => writeText('small.csv', `id\n${'1\n'.repeat((bytes - 3) / 2)}`);

/** Room for the hanging job's upload and 1000 bytes more. */
const LIMITS: WorkspaceLimits = { queuedBytes: HANGING_CSV.length + 1000, activeJobs: 4, webhookEndpoints: 2 };

let server: TestServer;
let acme: GraphQLClient;
beforeAll(async () => {
  // One job at a time behind a job that hangs: every later job stays PENDING until cancelled.
  server = await startServer({ maxConcurrentJobs: 1, cancelTimeoutMs: 300, workspaceLimits: LIMITS });
  acme = new GraphQLClient(server.url, await createKey(server.dataDir, 'acme'));
});
afterAll(async () => {
  await server?.stop();
});

async function cancel(client: GraphQLClient, ...jobs: JobFieldsFragment[]): Promise<void> {
  for (const job of jobs) {
    expect((await client.request(CancelJobDocument, { id: job.id })).cancelJob.userErrors).toEqual([]);
    await waitForJob(client, job.id);
  }
}

/** The server holds exactly the uploads of these jobs, and nothing half-received. */
async function expectUploadsOf(...jobs: JobFieldsFragment[]): Promise<void> {
  expect(await heldUploads(server)).toEqual({ stored: jobs.map((job) => job.id).sort(), arriving: [] });
}

describe('queued upload bytes per workspace', () => {
  it('refuses an upload past the limit with QUEUE_FULL (nothing kept), counts only the workspace, and frees room when a job ends', async () => {
    const hanging = await submit(server.client, HANGING, await writeText('hang.csv', HANGING_CSV));
    await waitForJob(server.client, hanging.id, (job) => job.status === 'RUNNING');
    const first = await submit(server.client, SMALL, await smallCsv(401));
    const second = await submit(server.client, SMALL, await smallCsv(401));
    const queued = HANGING_CSV.length + 802;

    const refused = await submitRefused(server.client, SMALL, await smallCsv(401));
    expect(refused).toEqual([{ code: 'QUEUE_FULL', field: ['input', 'file'], message: expect.stringContaining(`${queued} bytes`) }]);
    expect(refused[0].message).toMatch(/wait for .*jobs to finish/);
    expect(await jobCount(server.client)).toBe(3);
    await expectUploadsOf(hanging, first, second);

    const alone = await submitRefused(server.client, SMALL, await smallCsv(LIMITS.queuedBytes + 1));
    expect(alone).toEqual([{ code: 'QUEUE_FULL', field: ['input', 'file'], message: expect.stringContaining('larger than') }]);

    // Another workspace's queue is its own.
    await cancel(acme, await submit(acme, SMALL, await smallCsv(801)));

    await cancel(server.client, first);
    const third = await submit(server.client, SMALL, await smallCsv(401));
    await cancel(server.client, third, second, hanging);
  });

  it('lets only one of two concurrent uploads take the last room', async () => {
    const hanging = await submit(server.client, HANGING, await writeText('hang.csv', HANGING_CSV));
    const room = LIMITS.queuedBytes - HANGING_CSV.length;
    const file = await smallCsv(room - (room % 2 === 0 ? 1 : 0)); // odd sizes only
    const answers = await Promise.all([1, 2].map(() => server.client.upload(IngestDocument, { input: SMALL }, file)));
    const created = answers.filter((answer) => answer.data?.ingest.job);
    expect(created).toHaveLength(1);
    expect(answers.flatMap((answer) => answer.data!.ingest.userErrors.map((error) => error.code))).toEqual(['QUEUE_FULL']);
    await cancel(server.client, created[0].data!.ingest.job!, hanging);
  });
});

describe('active jobs per workspace', () => {
  it('refuses a job past the limit with TOO_MANY_JOBS, answers an idempotent retry with its job, and frees room when a job ends', async () => {
    const hanging = await submit(server.client, HANGING, await writeText('hang.csv', HANGING_CSV));
    const tiny = await smallCsv(5);
    const keyed = await submit(server.client, { ...SMALL, idempotencyKey: 'keyed' }, tiny);
    const pending = [await submit(server.client, SMALL, tiny), await submit(server.client, SMALL, tiny)];

    const refused = await submitRefused(server.client, SMALL, tiny);
    expect(refused).toEqual([{ code: 'TOO_MANY_JOBS', field: null, message: expect.stringMatching(/4 pending or running jobs.*wait/) }]);
    await expectUploadsOf(hanging, keyed, ...pending);

    const retried = await submit(server.client, { ...SMALL, idempotencyKey: 'keyed' }, tiny);
    expect(retried.id).toBe(keyed.id);

    await cancel(acme, await submit(acme, SMALL, tiny));

    await cancel(server.client, pending[0]);
    const next = await submit(server.client, SMALL, tiny);
    await cancel(server.client, next, pending[1], keyed, hanging);
  });
});

describe('webhook endpoints per workspace', () => {
  const register = (client: GraphQLClient, n: number) => client.request(RegisterWebhookDocument, { url: `https://example.com/hooks/${n}` });

  it('refuses an endpoint past the limit with TOO_MANY_ENDPOINTS, counts only the workspace, and frees room when one is deleted', async () => {
    const endpoints = [await register(server.client, 1), await register(server.client, 2)].map((answer) => answer.registerWebhook.endpoint!);
    const refused = (await register(server.client, 3)).registerWebhook;
    expect(refused).toEqual({ endpoint: null, secret: null, userErrors: [{ code: 'TOO_MANY_ENDPOINTS', field: null, message: expect.stringMatching(/2 webhook endpoints.*delete/) }] });

    expect((await register(acme, 1)).registerWebhook.userErrors).toEqual([]);

    await server.client.request(DeleteWebhookDocument, { id: endpoints[0].id });
    const again = await register(server.client, 4);
    expect(again.registerWebhook.userErrors).toEqual([]);

    // Two at once for the last room: one wins.
    await server.client.request(DeleteWebhookDocument, { id: endpoints[1].id });
    const racing = await Promise.all([register(server.client, 5), register(server.client, 6)]);
    expect(racing.map((answer) => answer.registerWebhook.userErrors.map((error) => error.code)).flat()).toEqual(['TOO_MANY_ENDPOINTS']);
  });
});
