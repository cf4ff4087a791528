import pg from 'pg';
import { EngineOpenError } from '../../ports/errors';
import { MIGRATIONS } from './migrations';

export type Pool = pg.Pool;
export type Client = pg.PoolClient | pg.Client;

/** Where the engine's tables live: the database, and the schema inside it (a test gives each engine a schema of its own). */
export interface PostgresLocation {
  url: string;
  /** The schema the tables live in; `public` unless given. */
  schema: string;
}

/** The database's clock, in epoch milliseconds: leases and heartbeats are measured on it, whatever the instances' clocks say. */
export const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** The database is of a newer schema than this binary knows: running it would misread the tables. */
export class SchemaTooNewError extends EngineOpenError {}

const INT8 = 20;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** bigint columns (row numbers, counters, epoch milliseconds) read as numbers: every value the engine stores fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function quotedSchema({ schema }: PostgresLocation): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a schema name: ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

/**
 * What a connection is for and whose it is, as pg_stat_activity shows it (`sluice/<role>/<instance>`),
 * so that an operator can tell the instances' connections apart (and end one).
 */
export interface ConnectionName {
  role: 'pool' | 'listener' | 'ingest' | 'migrate' | 'cli';
  instance: string;
}

/** Connection settings whose every session starts in the location's schema (set at connect, before any query). */
function connection(location: PostgresLocation, { role, instance }: ConnectionName) {
  const application_name = `sluice/${role}/${instance}`.slice(0, 63); // PostgreSQL keeps 63 bytes of it
  // keepAlive: a connection whose peer vanished (a network cut) errors instead of waiting forever.
  return { connectionString: location.url, types, options: `-c search_path=${quotedSchema(location)}`, application_name, keepAlive: true };
}

/** A pool of connections in the location's schema. */
export function openPool(location: PostgresLocation, max: number, name: ConnectionName): Pool {
  const pool = new pg.Pool({ ...connection(location, name), max });
  // An idle client that loses its connection must not crash the process; the next query gets a new one.
  pool.on('error', () => {});
  return pool;
}

/** One connection of its own (a worker thread's, the listener's), in the location's schema. */
export async function openClient(location: PostgresLocation, name: ConnectionName): Promise<pg.Client> {
  const client = new pg.Client(connection(location, name));
  // Attached before connecting: a connection ended by the server as it becomes ready (an operator's
  // pg_terminate_backend) emits 'error' at once, which without a listener would crash the process.
  // Its owner learns of the loss from its next query, or from its own 'error' listener.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Runs `work` in one transaction on a connection of the pool: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, () => work(client));
  } finally {
    client.release();
  }
}

/** Runs `work` in one transaction on the client (a connection of its own, such as a row sink's). */
export async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Background work that one instance of a deployment does at a time, each under a transaction-level
 * advisory lock that another instance skips instead of waiting for. Advisory locks are
 * database-wide: the key names the schema (the deployment) and the work, and the two-key form keeps
 * them apart from one-key locks.
 */
export const WORK_LOCK_SPACE = 0x511ce;
export const WORK_LOCK_KEY = `hashtext(current_schema() || '/' || $1::text)`;

/** Takes the work's lock for the rest of the transaction; false when another instance holds it (it does the work now). */
export async function tryWorkLock(db: pg.ClientBase, work: 'purge' | 'retention'): Promise<boolean> {
  const { rows } = await db.query<{ taken: boolean }>(`SELECT pg_try_advisory_xact_lock(${WORK_LOCK_SPACE}, ${WORK_LOCK_KEY}) AS taken`, [work]);
  return rows[0].taken;
}

/** The URL without its password, for messages and logs. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable SLUICE_DATABASE_URL)';
  }
}

/** The key of the advisory lock that makes migrations run once however many instances start together. */
const MIGRATION_LOCK = 0x51_1c_e0_01;

/**
 * Brings the location's schema to this binary's version, once, under an advisory lock; refuses a
 * schema newer than this binary knows (SchemaTooNewError), which an older binary would misread.
 */
export async function migrate(location: PostgresLocation, instance: string): Promise<void> {
  const client = await openClient(location, { role: 'migrate', instance }).catch((error: Error) => {
    throw new EngineOpenError(`cannot connect to PostgreSQL at ${redacted(location.url)}: ${error.message}`);
  });
  try {
    // Locked first: two concurrent CREATE SCHEMA IF NOT EXISTS can both try to create it, and one fails.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema(location)}`);
    await client.query('CREATE TABLE IF NOT EXISTS sluice_schema (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM sluice_schema');
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new SchemaTooNewError(
        `the database's schema is version ${current}, newer than this Sluice knows (${MIGRATIONS.length}): it was migrated by a newer release; run that release (or newer)`,
      );
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      await client.query('BEGIN');
      await client.query(MIGRATIONS[version]);
      await client.query(version === 0 ? 'INSERT INTO sluice_schema (version) VALUES ($1)' : 'UPDATE sluice_schema SET version = $1', [version + 1]);
      await client.query('COMMIT');
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock_all()').catch(() => {});
    await client.end();
  }
}
