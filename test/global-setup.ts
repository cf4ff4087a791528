import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureDatabase } from './helpers/postgres';

/** Builds dist/ once per run (process tests start the service as `npm start` does) and makes sure the PostgreSQL test database exists. */
export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
  await ensureDatabase();
}
