import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Config } from '../../src/config';
import { dropSchema, TEST_DATABASE_URL } from './postgres';
import { E2E_SCHEMA_PREFIX, type TestEngine, testEngineFrom } from './test-engine';

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's id, in the name of every schema the end-to-end servers get (test/global-setup.ts drops them at the end). */
    e2eRun: string;
  }
}

export const TEST_ENGINE: TestEngine = testEngineFrom(process.env.SLUICE_TEST_ENGINE);
export const ON_POSTGRES = TEST_ENGINE === 'postgres';

/**
 * Where a data directory records its PostgreSQL schema: a server restarted on the directory (even
 * after it was moved) finds the same schema, whose name is new and random the first time.
 */
export const SCHEMA_FILE = '.test-schema';

/** The PostgreSQL schema of the servers on `dataDir`, chosen (and recorded in the directory) at its first server. */
export function schemaOf(dataDir: string): string {
  const file = join(dataDir, SCHEMA_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const schema = `${E2E_SCHEMA_PREFIX}${inject('e2eRun')}_${randomBytes(6).toString('hex')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${schema}\n`);
  return schema;
}

/** The configuration a server on `dataDir` gets for the engine under test (nothing for SQLite, the default). */
export function engineConfig(dataDir: string): Partial<Config> {
  return ON_POSTGRES ? { databaseUrl: TEST_DATABASE_URL, databaseSchema: schemaOf(dataDir) } : {};
}

/** The same as the service's environment (for a server process or the command line). */
export function engineEnv(dataDir: string): Record<string, string> {
  return ON_POSTGRES ? { SLUICE_DATABASE_URL: TEST_DATABASE_URL, SLUICE_DATABASE_SCHEMA: schemaOf(dataDir) } : {};
}

/** Drops the schema of a data directory about to be removed (if it has one); global teardown drops whatever a test left. */
export async function dropEngineStorage(dataDir: string): Promise<void> {
  const file = join(dataDir, SCHEMA_FILE);
  if (ON_POSTGRES && existsSync(file)) await dropSchema(readFileSync(file, 'utf8').trim());
}

/** What a data directory holds besides the test's own record of its schema. */
export function ownEntries(entries: string[]): string[] {
  return entries.filter((entry) => entry !== SCHEMA_FILE);
}
