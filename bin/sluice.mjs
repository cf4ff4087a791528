#!/usr/bin/env node
// `sluice` on the PATH (npm link, npx sluice): runs the built command line, building it first when
// the checkout has no build yet, as `npm run sluice` does (which builds every time).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(cli)) {
  // The build's own output goes to stderr: stdout carries what commands print (a job id, a key).
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 2, 'inherit'] });
}
await import(cli.href);
