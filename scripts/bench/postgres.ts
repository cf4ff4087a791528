// The PostgreSQL engine's cases: each in a fresh schema of the bench's own database, dropped afterwards,
// and `psql \copy` as the reference for CSV ingest.
import { execFileSync } from 'node:child_process';
import { COLUMNS, type ServerEnv } from './sluice';
import { STORAGE_TYPE } from '../../src/engines/postgres/dataset-tables';
import { dropSchema, ensureDatabase, freshSchemaName } from '../../test/helpers/postgres';

/** The bench's database: SLUICE_BENCH_DATABASE_URL, or one of its own on the machine's PostgreSQL (created when missing). */
export const BENCH_DATABASE_URL = process.env.SLUICE_BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/sluice_bench';

/** Creates the bench's database when it does not exist yet (and starts the machine's PostgreSQL when it is down). */
export function ensureBenchDatabase(): Promise<void> {
  return ensureDatabase(BENCH_DATABASE_URL);
}

/**
 * Runs `measure` with the environment of servers on the PostgreSQL engine in a fresh schema of the
 * bench's database (every server given that environment shares it), and drops the schema afterwards.
 */
export async function onPostgres<T>(measure: (env: ServerEnv) => Promise<T>): Promise<T> {
  const schema = freshSchemaName();
  try {
    return await measure({ SLUICE_DATABASE_URL: BENCH_DATABASE_URL, SLUICE_DATABASE_SCHEMA: schema });
  } finally {
    await dropSchema(schema, BENCH_DATABASE_URL);
  }
}

/** The bench's columns with the types the PostgreSQL engine stores them as. */
function referenceTableDdl(table: string): string {
  return `CREATE TABLE ${table} (${COLUMNS.map((column) => `${column.name} ${STORAGE_TYPE[column.type]}`).join(', ')})`;
}

/** Seconds `psql -c "\copy … FROM '<csv>' WITH (FORMAT csv, HEADER true)"` takes to load the file into a table of the same columns and types. */
export function psqlCopy(csv: string): Promise<number> {
  return onPostgres(async ({ SLUICE_DATABASE_SCHEMA: schema }) => {
    const psql = (command: string) => execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', BENCH_DATABASE_URL, '-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
    const table = `"${schema}".bench`;
    psql(`CREATE SCHEMA "${schema}"; ${referenceTableDdl(table)}`);
    const started = performance.now();
    psql(`\\copy ${table} FROM '${csv.replaceAll("'", "''")}' WITH (FORMAT csv, HEADER true)`);
    return (performance.now() - started) / 1000;
  });
}
