import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineEnv } from './engine';

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.mjs');

/** Runs the built `sluice` command line (what `npm run sluice --` runs) on a data directory (and the engine under test's storage of it). */
export function sluice(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, SLUICE_DATA_DIR: dataDir, ...engineEnv(dataDir) } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Creates a key for `workspace` with the command line and returns it. */
export async function createKey(dataDir: string, workspace: string): Promise<string> {
  const created = await sluice(dataDir, 'keys', 'create', '--workspace', workspace);
  if (created.code !== 0) throw new Error(`sluice keys create failed: ${created.stderr}`);
  return created.stdout.trim();
}
