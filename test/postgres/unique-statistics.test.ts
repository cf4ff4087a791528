import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { rowsTable } from '../../src/engines/shared/dataset-record';
import { PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv } from '../helpers/files';
import { dropSchema, freshSchemaName, inSchema, TEST_DATABASE_URL } from '../helpers/postgres';
import { submit } from '../helpers/queries';
import { startServer, type TestServer, waitForJob } from '../helpers/server';

// A job fills its dataset's table faster than autovacuum analyzes it. Without statistics the
// planner takes the table for empty, and looked up a burst's UNIQUE values by scanning all of it:
// every burst cost more than the one before (a 500,000-row file ingested 3 times slower).

let server: TestServer | undefined;
const schema = freshSchemaName();

afterEach(async () => {
  await server?.stop();
  await dropSchema(schema);
});

const ROWS = 30_000;

it('refreshes the statistics of a UNIQUE column while a job fills its table: a burst of values is looked up by index', async () => {
  server = await startServer({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema });
  const path = join(await tempDir(), 'people.csv');
  await writeGeneratedCsv(path, PERSON_HEADER, ROWS, personLine);
  const job = await submit(server.client, { dataset: 'people', columns: PERSON_COLUMNS }, path);
  expect(await waitForJob(server.client, job.id)).toMatchObject({ status: 'COMPLETED', progress: { rowsWritten: ROWS } });

  const { reltuples, plan } = await inSchema(schema, async (client) => {
    const { rows: [dataset] } = await client.query<{ id: number }>(`SELECT id FROM datasets WHERE name = 'people'`);
    const table = rowsTable(dataset.id);
    const { rows: [stats] } = await client.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, [table]);
    // A burst's worth of ids, the way the ingest asks (unique-checks.ts).
    const burst = Array.from({ length: 800 }, (_, i) => ROWS - 1_000 + i);
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) SELECT DISTINCT c0 AS v FROM ${table} WHERE c0 = ANY($1::bigint[]) AND _row >= 1`, [burst]);
    return { reltuples: stats.reltuples, plan: JSON.stringify(rows) };
  });
  expect(reltuples).toBeGreaterThanOrEqual(10_000);
  expect(plan).toContain('Index');
  expect(plan).not.toContain('Seq Scan');
});

it('refreshes stale statistics of the key when a job starts: an UPSERT of a few rows over a large table looks its keys up by index', async () => {
  server = await startServer({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema });
  const dir = await tempDir();
  const [all, few] = [join(dir, 'people.csv'), join(dir, 'few.csv')];
  await writeGeneratedCsv(all, PERSON_HEADER, ROWS, personLine);
  await writeGeneratedCsv(few, PERSON_HEADER, 100, personLine);
  const columns = PERSON_COLUMNS.map((column) => ({ ...column, unique: false }));
  const first = await submit(server.client, { dataset: 'keyed', columns, key: ['id'] }, all);
  expect(await waitForJob(server.client, first.id)).toMatchObject({ status: 'COMPLETED', progress: { rowsWritten: ROWS } });
  const table = await inSchema(schema, async (client) => {
    const { rows: [dataset] } = await client.query<{ id: number }>(`SELECT id FROM datasets WHERE name = 'keyed'`);
    // As if autovacuum had not analyzed the table yet (the server runs as a superuser here).
    await client.query(`UPDATE pg_class SET reltuples = -1 WHERE oid = $1::regclass`, [rowsTable(dataset.id)]);
    return rowsTable(dataset.id);
  });

  const upsert = await submit(server.client, { dataset: 'keyed', mode: 'UPSERT', key: ['id'] }, few);
  expect(await waitForJob(server.client, upsert.id)).toMatchObject({ status: 'COMPLETED', result: { rowsUnchanged: 100 } });
  const { reltuples, plan } = await inSchema(schema, async (client) => {
    const { rows: [stats] } = await client.query<{ reltuples: number }>(`SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, [table]);
    // A burst's worth of keys, the way the ingest asks (key-lookups.ts).
    const burst = Array.from({ length: 800 }, (_, i) => i + 1);
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) SELECT t.c0 FROM unnest($1::bigint[]) AS keys (k0) JOIN ${table} t ON t.c0 = keys.k0 WHERE _row < 100000 AND _row >= 0`, [burst]);
    return { reltuples: stats.reltuples, plan: JSON.stringify(rows) };
  });
  expect(reltuples).toBeGreaterThanOrEqual(ROWS / 2);
  expect(plan).toContain('Index');
  expect(plan).not.toContain('Seq Scan');
});
