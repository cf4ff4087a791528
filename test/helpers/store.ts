import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DEFAULT_WORKSPACE } from '../../src/auth/first-key';
import { rowsTable } from '../../src/engines/shared/dataset-record';
import { ON_POSTGRES, schemaOf } from './engine';
import { TEST_DATABASE_URL } from './postgres';

/** PostgreSQL's bigint (int8) and numeric read as numbers, as SQLite's integers do; the test tables' counts and row numbers fit. */
const numericTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Runs `sql` on the storage of the servers on `dataDir`, whichever engine they use: SQLite's
 * sluice.db, or their PostgreSQL schema. The engines' tables have the same names and columns; `?`
 * placeholders work on both. Read-only, as a second process would read it; a test that looks under
 * the API uses it, never to change what the service stored.
 */
export async function queryStore<T>(dataDir: string, sql: string, ...params: unknown[]): Promise<T[]> {
  if (!ON_POSTGRES) {
    const db = new Database(join(dataDir, 'sluice.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, types: numericTypes, options: `-c search_path=${schemaOf(dataDir)}` });
  await client.connect();
  try {
    await client.query('SET default_transaction_read_only = on');
    return (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The one value of the one row `sql` answers (a count, say). */
export async function queryStoreValue<T>(dataDir: string, sql: string, ...params: unknown[]): Promise<T> {
  const [row] = await queryStore<Record<string, T>>(dataDir, sql, ...params);
  return Object.values(row)[0];
}

/** How many bytes the storage of the servers on `dataDir` takes: sluice.db once its WAL is folded in, or the tables (with indexes and TOAST) of their schema. */
export async function storeBytes(dataDir: string): Promise<number> {
  if (ON_POSTGRES) {
    return queryStoreValue<number>(dataDir, "SELECT coalesce(sum(pg_total_relation_size(oid)), 0) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'");
  }
  const path = join(dataDir, 'sluice.db');
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return (await stat(path)).size;
}

/** What a dataset of workspace `default` physically holds in its table, hidden rows included, and its hidden ranges. */
export async function storedRows(dataDir: string, dataset: string): Promise<{ rows: number; hiddenRanges: number }> {
  const [{ id }] = await queryStore<{ id: number }>(dataDir, 'SELECT id FROM datasets WHERE workspace = ? AND name = ?', DEFAULT_WORKSPACE, dataset);
  return {
    rows: await queryStoreValue<number>(dataDir, `SELECT count(*) FROM ${rowsTable(id)}`),
    hiddenRanges: await queryStoreValue<number>(dataDir, 'SELECT count(*) FROM dataset_hidden_ranges WHERE dataset_id = ?', id),
  };
}

/** PostgreSQL only: makes an upload look stored `ms` earlier, as one an instance left long ago. */
export async function ageUpload(dataDir: string, key: string, ms: number): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schemaOf(dataDir)}` });
  await client.connect();
  try {
    await client.query('UPDATE blobs SET created_at = created_at - $2::bigint WHERE key = $1', [key, ms]);
  } finally {
    await client.end();
  }
}
