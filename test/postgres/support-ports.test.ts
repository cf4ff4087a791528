import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/ports/engine';
import type { JobChanged } from '../../src/ports/event-bus';
import { openPostgresEngine, type PostgresSettings } from '../../src/engines/postgres';
import { BlobCorruptError } from '../../src/engines/postgres/blob-store';
import { DB_NOW_MS as DB_NOW_SQL, SchemaTooNewError } from '../../src/engines/postgres/database';
import { MIGRATIONS } from '../../src/engines/postgres/migrations';
import { createJob } from '../contract/fixtures';
import { waitUntil } from '../contract/support-ports';
import { tempDir } from '../helpers/files';
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from '../helpers/postgres';

/** What the contract suites cannot say of PostgreSQL: several instances at once, a lost connection, what the tables hold. */
describe('PostgreSQL support ports', () => {
  const opened: Engine[] = [];
  const schemas: string[] = [];
  const dirs: string[] = [];

  async function settings(schema = freshSchemaName()): Promise<PostgresSettings> {
    if (!schemas.includes(schema)) schemas.push(schema);
    const scratchDir = await tempDir();
    dirs.push(scratchDir);
    return { location: { url: TEST_DATABASE_URL, schema }, poolSize: 2, staleMs: 60_000, scratchDir };
  }

  async function open(of: PostgresSettings): Promise<Engine> {
    const engine = openPostgresEngine(of);
    opened.push(engine);
    await engine.open();
    return engine;
  }

  /** Runs SQL in the schema, as an operator (or another process) would. */
  async function sql(schema: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`SET search_path TO "${schema}"`);
      return await client.query(text, params);
    } finally {
      await client.end();
    }
  }

  /** The bus's listening connection (a private field: the test kills it as a network failure would). */
  const listenerOf = (engine: Engine) => (engine.events as unknown as { client: (pg.Client & { processID: number }) | null }).client;

  afterEach(async () => {
    for (const engine of opened.splice(0)) await engine.close();
    for (const schema of schemas.splice(0)) await dropSchema(schema);
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  describe('event bus', () => {
    it("reaches every instance on the schema, another instance's notice re-read; another schema's publishes stay there", async () => {
      const shared = await settings();
      const [a, b] = [await open(shared), await open(shared)];
      const elsewhere = await open(await settings());
      const heardByA: JobChanged[] = [];
      const heardByB: JobChanged[] = [];
      a.events.subscribe((event) => heardByA.push(event));
      b.events.subscribe((event) => heardByB.push(event));

      await elsewhere.events.publish({ job: await createJob(elsewhere), kind: 'created' });
      const job = await createJob(a);
      await a.events.publish({ job, kind: 'created' });
      await waitUntil(() => heardByA.length >= 1 && heardByB.length >= 1);
      expect(heardByA).toEqual([{ job, kind: 'created' }]);
      expect(heardByB).toEqual([{ job, kind: 'created' }]);
    });

    it('reconnects after its connection is killed; its own publishes meanwhile still reach its subscribers', async () => {
      const shared = await settings();
      const [a, b] = [await open(shared), await open(shared)];
      const heardByA: JobChanged[] = [];
      a.events.subscribe((event) => heardByA.push(event));
      const job = await createJob(b);

      const listener = listenerOf(a);
      await sql(shared.location.schema, 'SELECT pg_terminate_backend($1)', [listener!.processID]);
      await a.events.publish({ job, kind: 'progress' }); // down or not yet noticed: heard locally either way
      await waitUntil(() => heardByA.length >= 1);

      // Back and listening: another instance's publish reaches it again.
      await waitUntil(() => listenerOf(a) !== null && listenerOf(a) !== listener);
      const moved = { ...job, sequence: job.sequence + 1 };
      await sql(shared.location.schema, 'UPDATE jobs SET sequence = $2 WHERE num = $1', [job.num, moved.sequence]);
      await b.events.publish({ job: moved, kind: 'transition' });
      await waitUntil(() => heardByA.some((event) => event.job.sequence === moved.sequence));
      expect(heardByA[0].kind).toBe('progress');
    });

    it('after its connection comes back, delivers every job that changed while it was away (a lost notice included), as it is now', async () => {
      const shared = await settings();
      const [a, b] = [await open(shared), await open(shared)];
      const [quiet, other] = [await createJob(b, 'quiet'), await createJob(b, 'other')];
      const heardByA: JobChanged[] = [];
      a.events.subscribe((event) => heardByA.push(event));
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // past the margin and a check: jobs changed before are not re-read

      const listener = listenerOf(a);
      await sql(shared.location.schema, 'SELECT pg_terminate_backend($1)', [listener!.processID]);
      // Changed without a notice (one sent while the connection was down never reaches it).
      await sql(shared.location.schema, `UPDATE jobs SET sequence = sequence + 1, updated_at = ${DB_NOW_SQL} WHERE num = $1`, [other.num]);
      await waitUntil(() => heardByA.length >= 1, 10_000);
      expect(heardByA).toEqual([{ job: { ...other, sequence: other.sequence + 1, updatedAt: expect.any(Number) }, kind: 'transition' }]);
      expect(heardByA.some((event) => event.job.num === quiet.num)).toBe(false);
    });
  });

  describe('blob store', () => {
    it('stores a blob in 1 MiB chunks and copies it out; release deletes the copy', async () => {
      const of = await settings();
      const engine = await open(of);
      const bytes = Buffer.alloc(2.5 * 1024 * 1024, 7);
      await engine.blobs.put(await engine.blobs.stage(Readable.from([bytes]), 'big.csv'), 'job_big');
      const { rows } = await sql(of.location.schema, 'SELECT seq, length(data) AS n FROM blob_chunks WHERE key = $1 ORDER BY seq', ['job_big']);
      expect(rows.map((row) => Number(row.n))).toEqual([1024 * 1024, 1024 * 1024, 512 * 1024]);
      const file = await engine.blobs.localFile('job_big');
      await file.release();
      await expect(access(file.path)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a missing blob fails with ENOENT; a corrupt one with BlobCorruptError, leaving no copy', async () => {
      const of = await settings();
      const engine = await open(of);
      await expect(engine.blobs.localFile('job_none')).rejects.toMatchObject({ code: 'ENOENT' });
      await engine.blobs.put(await engine.blobs.stage(Readable.from([Buffer.from('id\n1\n')]), 'a.csv'), 'job_a');
      await sql(of.location.schema, `UPDATE blob_chunks SET data = '\\x00'::bytea WHERE key = 'job_a'`);
      await expect(engine.blobs.localFile('job_a')).rejects.toBeInstanceOf(BlobCorruptError);
      await engine.blobs.delete('job_a');
      expect((await sql(of.location.schema, 'SELECT count(*)::int AS n FROM blob_chunks')).rows[0].n).toBe(0);
    });
    it("clearStaging also deletes what a dead process left in the scratch folder, not a live instance's uploads", async () => {
      const of = await settings();
      const [engine, live] = [await open(of), await open(of)];
      const kept = await live.blobs.stage(Readable.from([Buffer.from('arriving')]), 'live.csv');
      const dead = spawnSync('true').pid;
      const leftovers = [join(of.scratchDir, 'staging', `${dead}-${randomUUID()}`), join(of.scratchDir, 'copies', `${dead}-${randomUUID()}`)];
      for (const path of leftovers) await mkdir(path, { recursive: true });
      await engine.blobs.clearStaging();
      for (const path of leftovers) await expect(access(path)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(access(kept.path)).resolves.toBeUndefined();
    });
  });

  describe('migrations', () => {
    it('run once however many instances open a fresh schema together', async () => {
      const shared = await settings();
      const engines = [1, 2, 3].map(() => openPostgresEngine(shared));
      opened.push(...engines);
      await Promise.all(engines.map((engine) => engine.open()));
      const { rows } = await sql(shared.location.schema, 'SELECT version FROM sluice_schema');
      expect(rows).toEqual([{ version: MIGRATIONS.length }]);
    });

    it("stores uploads' chunks with lz4 where the server has it, else uncompressed (pglz made storing uploads five times slower)", async () => {
      const shared = await settings();
      await open(shared);
      const { rows } = await sql(shared.location.schema, "SELECT attcompression, attstorage FROM pg_attribute WHERE attrelid = 'blob_chunks'::regclass AND attname = 'data'");
      const [{ attcompression, attstorage }] = rows as { attcompression: string; attstorage: string }[];
      expect(attcompression === 'l' || attstorage === 'e', JSON.stringify(rows[0])).toBe(true);
    });

    it('a schema migrated by a newer release is refused with a message saying so, and left as it is', async () => {
      const shared = await settings();
      await open(shared);
      await sql(shared.location.schema, 'UPDATE sluice_schema SET version = $1', [MIGRATIONS.length + 1]);
      const older = openPostgresEngine(shared);
      opened.push(older);
      const refusal = await older.open().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(SchemaTooNewError);
      expect((refusal as Error).message).toMatch(/newer than this Sluice knows/);
      expect((await sql(shared.location.schema, 'SELECT version FROM sluice_schema')).rows).toEqual([{ version: MIGRATIONS.length + 1 }]);
    });
  });

  describe('coordination', () => {
    it("sweeps at once an instance of this host whose process is gone, not one of another host's", async () => {
      const shared = await settings();
      const engine = await open(shared);
      await engine.coordination.join();
      const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that ran and exited
      const insert = `INSERT INTO instances (id, host, pid, started_at, seen_at) VALUES ($1, $2, $3, ${DB_NOW_SQL}, ${DB_NOW_SQL})`;
      await sql(shared.location.schema, insert, ['crashed-here', hostname(), gone]);
      await sql(shared.location.schema, insert, ['elsewhere', 'another-host', gone]);
      expect(await engine.coordination.isLive('crashed-here')).toBe(true); // fresh, until a sweep looks at its pid
      expect(await engine.coordination.renew()).toBe(true);
      expect(await engine.coordination.isLive('crashed-here')).toBe(false);
      expect(await engine.coordination.isLive('elsewhere')).toBe(true);
    });

    it('many instances join at once; one that stopped renewing is swept by the others and cannot renew', async () => {
      const shared = await settings();
      const [a, b, c] = [await open(shared), await open(shared), await open(shared)];
      await Promise.all([a, b, c].map((engine) => engine.coordination.join()));
      for (const engine of [a, b, c]) expect(await engine.coordination.holds()).toBe(true);

      await sql(shared.location.schema, 'UPDATE instances SET seen_at = seen_at - $2::bigint WHERE id = $1', [c.coordination.id, 61_000]);
      expect(await c.coordination.holds()).toBe(false);
      expect(await a.coordination.renew()).toBe(true);
      expect((await sql(shared.location.schema, 'SELECT id FROM instances ORDER BY id')).rows.map((row) => row.id)).toEqual([a.coordination.id, b.coordination.id].sort());
      expect(await c.coordination.renew()).toBe(false);
      expect(await b.coordination.holds()).toBe(true);
    });
  });
});
