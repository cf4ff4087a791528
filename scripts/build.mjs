// Bundles the service (and the `sluice` command line) for `npm start`: plain JavaScript, so that no TypeScript is compiled at
// run time and no thread (the main one, each ingest worker, each file reader) carries a TypeScript
// loader: less memory per thread and faster worker start. Packages stay in node_modules.
// The worker entries keep the names the source spawns them by (src/ingest/*-entry.mjs load the
// TypeScript under tsx, as tests do in-process).
//
// The bundle goes to dist/builds/<hash of its files>/, which no later build changes; dist/main.mjs
// and dist/cli.mjs are launchers of the latest build. A server loads its worker threads from its
// own build's directory when a job starts, so rebuilding the checkout (`npm run sluice`, `npm start`
// of another server) never changes the code a running server runs.
//
// The web dashboard (scripts/build-dashboard.mjs) goes into the same build, in dashboard/: a server
// serves the dashboard of its own build. dist/dashboard links to the latest build's, for servers run
// from the sources (tests, tsx), which have no build of their own.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { dashboardFiles } from './build-dashboard.mjs';
import { publishBuild, pruneBuilds, writeFileAtomically } from './build-store.mjs';

const BUILDS = join('dist', 'builds');
const LAUNCHED = ['main', 'cli'];

/** Points the symbolic link `path` at `target` in one step (a reader finds the old target or the new), when it changes. */
function linkAtomically(target, path) {
  if (existsSync(path) && readlinkSync(path) === target) return;
  const staging = `${path}.${randomUUID()}`;
  symlinkSync(target, staging);
  renameSync(staging, path);
}

const { outputFiles } = await build({
  entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts', 'worker-entry': 'src/ingest/worker.ts', 'reader-entry': 'src/ingest/reader.ts' },
  // As deep as dist/builds/<hash>/, where the files go: the source maps' relative paths hold there.
  outdir: join(BUILDS, 'next'),
  write: false,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  // Dynamic imports stay lazy (chunks of their own): an ingest thread loads exceljs only for its
  // first XLSX job, which keeps each thread of the warm pool about 10 MB smaller.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});

const files = [
  ...outputFiles.map((file) => ({ name: basename(file.path), contents: file.contents })),
  ...(await dashboardFiles('dashboard', join(BUILDS, 'next', 'dashboard'))),
].sort((a, b) => a.name.localeCompare(b.name));
const hash = createHash('sha256');
for (const file of files) hash.update(`${file.name}\0${file.contents.length}\0`).update(file.contents);
const id = hash.digest('hex').slice(0, 16);

publishBuild(join(BUILDS, id), files);
for (const entry of LAUNCHED) {
  writeFileAtomically(
    join('dist', `${entry}.mjs`),
    `// Written by scripts/build.mjs: runs build ${id}, whose files no later build changes.
import { holdBuild } from '../scripts/build-store.mjs';

holdBuild(new URL('./builds/${id}/', import.meta.url));
await import('./builds/${id}/${entry}.mjs');
`,
  );
}
linkAtomically(join('builds', id, 'dashboard'), join('dist', 'dashboard'));
pruneBuilds(BUILDS, id);
