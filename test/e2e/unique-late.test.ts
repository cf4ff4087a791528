import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { type ColumnInput, JobDocument } from '../generated/graphql';
import { PERSON_COLUMNS, PERSON_HEADER, peopleFileForSuite, personLine, tempDir, writeGeneratedCsv } from '../helpers/files';
import { submit } from '../helpers/queries';
import { startServer, TERMINAL, waitForJob } from '../helpers/server';
import { allIssues } from '../helpers/crash';
import { join } from 'node:path';

// A UNIQUE rule that a dataset's table has no index for (a later job declares it on a large dataset)
// must not be served by building one: CREATE INDEX holds the database's write lock for its whole run,
// and every other writer (the API's, other jobs') would wait for it, past the busy timeout.

const ROWS = 1_000_000;
const bigFile = peopleFileForSuite(ROWS);
/** The people columns, none of them UNIQUE: the table gets no index. */
const PLAIN: ColumnInput[] = PERSON_COLUMNS.map((column) => ({ ...column, unique: false }));

describe('a UNIQUE rule declared by a later job on a large dataset', () => {
  it('is checked against every visible row without holding the write lock: another job and the API go on, and the check is exact', async () => {
    // A short busy timeout: a writer kept waiting for longer fails, as it would under a long lock.
    const server = await startServer({ sqliteBusyTimeoutMs: 300, maxConcurrentJobs: 2 });
    try {
      const first = await submit(server.client, { dataset: 'big', columns: PLAIN }, bigFile());
      expect((await waitForJob(server.client, first.id, undefined, 180_000)).status).toBe('COMPLETED');
      const other = await submit(server.client, { dataset: 'other', columns: PLAIN }, bigFile());
      await waitForJob(server.client, other.id, (job) => TERMINAL.has(job.status) || job.progress.processedRows > 0);

      // 500 emails already in the dataset, then 500 new ones.
      const late = join(await tempDir(), 'late.csv');
      await writeGeneratedCsv(late, PERSON_HEADER, 1000, (i) => personLine(i <= 500 ? i * 1000 : ROWS + i));
      const unique = await submit(server.client, { dataset: 'big', columns: PLAIN.map((c) => (c.name === 'email' ? { ...c, unique: true } : c)) }, late);

      // The API answers throughout.
      let slowest = 0;
      for (;;) {
        const started = performance.now();
        const { job } = await server.client.request(JobDocument, { id: unique.id });
        slowest = Math.max(slowest, performance.now() - started);
        if (TERMINAL.has(job!.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const checked = await waitForJob(server.client, unique.id);
      expect(checked).toMatchObject({ status: 'COMPLETED', error: null, progress: { rowsWritten: 500, rowsRejected: 500 } });
      const issues = await allIssues(server.client, unique.id);
      expect(issues.map((issue) => `${issue.code} ${issue.row}`)).toEqual(Array.from({ length: 500 }, (_, i) => `UNIQUE ${i + 1}`));
      expect(await waitForJob(server.client, other.id, undefined, 180_000)).toMatchObject({ status: 'COMPLETED', error: null });
      expect(slowest).toBeLessThan(1000);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
