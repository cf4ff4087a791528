// Bundles the service (and the `sluice` command line) into dist/ for `npm start`: plain JavaScript, so that no TypeScript is compiled at
// run time and no thread (the main one, each ingest worker, each file reader) carries a TypeScript
// loader: less memory per thread and faster worker start. Packages stay in node_modules.
// The worker entries keep the names the source spawns them by (src/ingest/*-entry.mjs load the
// TypeScript under tsx, as tests do in-process).
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'src/main.ts', cli: 'src/cli.ts', 'worker-entry': 'src/ingest/worker.ts', 'reader-entry': 'src/ingest/reader.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
