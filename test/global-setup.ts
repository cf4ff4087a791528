import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { E2E_SCHEMA_PREFIX } from './helpers/test-engine';
import { dropSchema, ensureDatabase, schemasStartingWith } from './helpers/postgres';

/** Runs older than this that left schemas behind were stopped before their teardown: theirs are dropped at the next start. */
const STALE_RUN_MS = 24 * 3_600_000;

/** A run's id: when it started (base 36 milliseconds, which sort as they age) and a random part, since runs of other checkouts share the test database. */
function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** When the run that named `schema` (`e2e_<run>_…`) started. */
function runStartedAt(schema: string): number {
  return parseInt(schema.slice(E2E_SCHEMA_PREFIX.length).split('_')[0].slice(0, -6), 36);
}

/**
 * Builds dist/ once per run (process tests start the service as `npm start` does), makes sure the
 * PostgreSQL test database exists, and gives the run an id for the schemas of its end-to-end servers,
 * which it drops at the end (and those of runs that never reached their end, a day later).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
  await ensureDatabase();
  const run = newRunId();
  project.provide('e2eRun', run);
  const stale = (await schemasStartingWith(E2E_SCHEMA_PREFIX)).filter((schema) => !(Date.now() - runStartedAt(schema) < STALE_RUN_MS));
  for (const schema of stale) await dropSchema(schema);
  return async () => {
    for (const schema of await schemasStartingWith(`${E2E_SCHEMA_PREFIX}${run}_`)) await dropSchema(schema);
  };
}
