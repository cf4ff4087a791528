// The `sluice` command line (bundled to dist/cli.mjs by scripts/build.mjs): a client of a running
// server (ingest, jobs, job, cancel, issues, rejects) and the API key tool of its data directory.
import { run } from './cli/program';

await run(process.argv);
