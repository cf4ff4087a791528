import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';

/** The PostgreSQL the tests use: SLUICE_TEST_DATABASE_URL, or the machine's own (127.0.0.1:5432, trust auth) with a database of their own. */
export const TEST_DATABASE_URL = process.env.SLUICE_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/sluice_test';

/** Starts the machine's PostgreSQL cluster (Debian's pg_ctlcluster, the newest version installed), waiting until it answers. */
function startLocalCluster(): void {
  const version = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1);
  if (!version) throw new Error('PostgreSQL is not running on 127.0.0.1:5432 and none is installed: install it, or set SLUICE_TEST_DATABASE_URL');
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
  execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '30'], { stdio: 'inherit' });
}

/** Connects as the administrator of the test server; starts the machine's own cluster first when it is down (the default URL only). */
async function connectAdmin(url: URL): Promise<pg.Client> {
  const connect = async () => {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    return client;
  };
  try {
    return await connect();
  } catch (error) {
    if ((error as { code?: string }).code !== 'ECONNREFUSED' || process.env.SLUICE_TEST_DATABASE_URL) throw error;
    startLocalCluster();
    return connect();
  }
}

/** Creates the database of `databaseUrl` (the tests' by default) when it does not exist yet (global setup, once per run; the bench, its own). */
export async function ensureDatabase(databaseUrl = TEST_DATABASE_URL): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = await connectAdmin(url);
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
}

/** A schema name no other test uses: each engine under test gets fresh, empty tables. */
export function freshSchemaName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Drops a test's schema (or one of the database at `databaseUrl`) with everything in it. */
export async function dropSchema(schema: string, databaseUrl = TEST_DATABASE_URL): Promise<void> {
  await withDatabase((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`), databaseUrl);
}

/** Runs `work` with a client of the test database (or of the database at `databaseUrl`). */
async function withDatabase<T>(work: (client: pg.Client) => Promise<T>, databaseUrl = TEST_DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Runs `work` with a client of the test database whose search path is `schema`. */
export function inSchema<T>(schema: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withDatabase(async (client) => {
    await client.query(`SET search_path TO "${schema}"`);
    return work(client);
  });
}

/** The schemas of the test database whose names start with `prefix`. */
export function schemasStartingWith(prefix: string): Promise<string[]> {
  return withDatabase(async (client) => {
    const { rows } = await client.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname", [prefix]);
    return rows.map((row) => row.name);
  });
}
