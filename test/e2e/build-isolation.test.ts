import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, cp, readFile, realpath, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv } from '../helpers/files';
import { startServerProcess } from '../helpers/process';
import { engineEnv } from '../helpers/engine';
import { ingest } from '../helpers/queries';

// A running server loads its worker threads from the build it started with, while `npm run sluice`
// and `npm start` of another server rebuild the same checkout. Run in a copy of the checkout, since
// the test edits its sources.

const root = fileURLToPath(new URL('../..', import.meta.url));

let checkout: string;
let csv: string;
/** Removed after the tests: the checkout, the CSV's folder, the data directories. */
const dirs: string[] = [];
beforeAll(async () => {
  checkout = await tempDir();
  for (const part of ['package.json', 'tsconfig.json', 'scripts', 'src']) await cp(join(root, part), join(checkout, part), { recursive: true });
  await symlink(await realpath(join(root, 'node_modules')), join(checkout, 'node_modules'));
  const csvDir = await tempDir();
  csv = join(csvDir, 'people.csv');
  await writeGeneratedCsv(csv, PERSON_HEADER, 100, personLine);
  dirs.push(checkout, csvDir);
});
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Runs a command in the copied checkout; resolves with its exit code and output. */
function runIn(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: checkout, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The first half of `npm start`: the build. */
async function build(): Promise<void> {
  const built = await runIn(process.execPath, ['scripts/build.mjs']);
  expect(built.code, built.stderr).toBe(0);
}

/** The build the checkout's launcher (dist/main.mjs) runs. */
async function launchedBuild(): Promise<string> {
  return /builds\/([0-9a-f]+)\//.exec(await readFile(join(checkout, 'dist', 'main.mjs'), 'utf8'))![1];
}

const buildDir = (id: string) => join(checkout, 'dist', 'builds', id);

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}

describe('builds beside a running server', () => {
  it('a running server still completes jobs after `npm run sluice` and a second `npm start` rebuilt its checkout with changed code', async () => {
    await build();
    const firstDataDir = await dataDir();
    const first = await startServerProcess(firstDataDir, {}, { checkout });
    try {
      // A change the running server cannot work with (as a change of the worker's protocol would be): a worker built from it fails as it starts.
      const worker = join(checkout, 'src/ingest/worker.ts');
      await writeFile(worker, `throw new Error('a worker of a newer build');\n${await readFile(worker, 'utf8')}`);

      const listed = await runIn('npm', ['run', '-s', 'sluice', '--', 'keys', 'list'], { SLUICE_DATA_DIR: firstDataDir, ...engineEnv(firstDataDir) });
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/^ID\s+WORKSPACE/);
      expect(listed.stdout).toContain('default');
      const afterCli = await ingest(first.client, { dataset: 'after-cli', columns: PERSON_COLUMNS }, csv);
      expect(afterCli.error).toBeNull();
      expect(afterCli.status).toBe('COMPLETED');

      // A second server from the same checkout, on its own data directory: it builds and runs the changed code...
      await build();
      const second = await startServerProcess(await dataDir(), {}, { checkout });
      try {
        const onSecond = await ingest(second.client, { dataset: 'changed', columns: PERSON_COLUMNS }, csv);
        expect(onSecond.status).toBe('FAILED');
        // ...while the first still runs the code it started with.
        const afterSecondStart = await ingest(first.client, { dataset: 'after-second-start', columns: PERSON_COLUMNS }, csv);
        expect(afterSecondStart.error).toBeNull();
        expect(afterSecondStart.status).toBe('COMPLETED');
      } finally {
        await second.kill('SIGTERM');
      }
    } finally {
      await first.kill('SIGTERM');
    }
  });

  it('deletes an earlier build once no process runs from it, however old it is', async () => {
    await build();
    const earlier = await launchedBuild();
    const server = await startServerProcess(await dataDir(), {}, { checkout });
    let killed = false;
    try {
      await appendFile(join(checkout, 'src/cli.ts'), `\nexport const buildMark = '${randomUUID()}';\n`);
      const hourAgo = new Date(Date.now() - 3600_000);
      await utimes(buildDir(earlier), hourAgo, hourAgo);
      await build();
      expect(await launchedBuild()).not.toBe(earlier);
      expect(existsSync(buildDir(earlier)), 'the build a live server runs from').toBe(true);

      // Killed outright, the server leaves its mark behind: its pid is dead all the same.
      await server.kill('SIGKILL');
      killed = true;
      await build();
      expect(existsSync(buildDir(earlier)), 'a build nobody runs from').toBe(false);
      expect(existsSync(buildDir(await launchedBuild()))).toBe(true);
    } finally {
      if (!killed) await server.kill('SIGKILL');
    }
  });
});
