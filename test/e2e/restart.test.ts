import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetDocument, IngestDocument } from '../generated/graphql';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv } from '../helpers/files';
import { startServerProcess } from '../helpers/process';
import { submit } from '../helpers/queries';
import { removeDataDir, waitForJob } from '../helpers/server';

describe('the service as a process', () => {
  it('finds the uploads of waiting jobs after its data directory was moved', async () => {
    const dataDir = await tempDir();
    const moved = `${dataDir}-moved`;
    const path = join(await tempDir(), 'people.csv');
    await writeGeneratedCsv(path, PERSON_HEADER, 200_000, personLine);
    // One job at a time: the second waits, its upload spooled, while the first runs.
    const env = { SLUICE_MAX_CONCURRENT_JOBS: '1' };
    const first = await startServerProcess(dataDir, env);
    const ids = [
      (await submit(first.client, { dataset: 'a', columns: PERSON_COLUMNS }, path)).id,
      (await submit(first.client, { dataset: 'b', columns: PERSON_COLUMNS }, path)).id,
    ];
    await first.kill('SIGTERM');
    await rename(dataDir, moved);
    const second = await startServerProcess(moved, env);
    try {
      for (const id of ids) expect(await waitForJob(second.client, id, undefined, 120_000)).toMatchObject({ status: 'COMPLETED', error: null });
    } finally {
      await second.kill('SIGTERM');
      await removeDataDir(moved);
    }
  });

  it('re-queues a job left RUNNING by a killed process and completes it after restart, every row once', async () => {
    const dataDir = await tempDir();
    const path = join(await tempDir(), 'people.csv');
    const rows = 300_000;
    await writeGeneratedCsv(path, PERSON_HEADER, rows, personLine);

    const first = await startServerProcess(dataDir);
    const answer = await first.client.upload(IngestDocument, { input: { dataset: 'people', columns: PERSON_COLUMNS } }, path);
    const id = answer.data!.ingest.job!.id;
    const running = await waitForJob(first.client, id, (job) => job.status === 'RUNNING' && job.progress.rowsWritten > 0);
    expect(running.progress.rowsWritten).toBeLessThan(rows);
    await first.kill('SIGKILL');

    const second = await startServerProcess(dataDir);
    try {
      const job = await waitForJob(second.client, id);
      expect(job.status).toBe('COMPLETED');
      expect(job.attempts).toBe(2);
      expect(job.progress).toMatchObject({ processedRows: rows, rowsWritten: rows, rowsRejected: 0 });
      // `id` is UNIQUE in the schema: a row written twice would have been rejected.
      const { dataset } = await second.client.request(DatasetDocument, { name: 'people', first: 1000 });
      expect(dataset!.rowCount).toBe(rows);
      expect(dataset!.rows.edges.map((edge) => edge.node.values)).toEqual(Array.from({ length: 1000 }, (_, i) => expectedPerson(i + 1)));
    } finally {
      await second.kill('SIGTERM');
    }
  });

  it('keeps memory flat as files grow: uploads and rows are streamed, never held whole', async () => {
    const padding = 'x'.repeat(400);
    // Peak memory growth of a fresh server ingesting a file of `rows` wide rows.
    const growth = async (rows: number) => {
      const path = join(await tempDir(), 'wide.csv');
      await writeGeneratedCsv(path, `${PERSON_HEADER},notes`, rows, (i) => `${personLine(i)},${padding}`);
      const server = await startServerProcess(await tempDir());
      try {
        const before = server.peakRss();
        const answer = await server.client.upload(IngestDocument, { input: { dataset: 'wide' } }, path);
        expect(answer.errors).toBeUndefined();
        const job = await waitForJob(server.client, answer.data!.ingest.job!.id);
        expect(job.status).toBe('COMPLETED');
        expect(job.progress.rowsWritten).toBe(rows);
        return { fileSize: (await stat(path)).size, growth: server.peakRss() - before };
      } finally {
        await server.kill('SIGTERM');
      }
    };
    const small = await growth(60_000);
    const large = await growth(300_000);
    expect(large.fileSize - small.fileSize).toBeGreaterThan(100 * 1024 * 1024);
    // Holding the upload or the rows would add the size difference (> 100 MB); streaming adds next to nothing.
    expect(large.growth - small.growth).toBeLessThan((large.fileSize - small.fileSize) / 2);
  });
});
