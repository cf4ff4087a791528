import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { Results } from '../scripts/bench/results';

const root = fileURLToPath(new URL('..', import.meta.url));

// The bench runs in every test run, on small files, so that it never rots. Its timings are not
// asserted (they mean little at this size, on a shared machine): only that every case ran and agreed.
it('npm run bench -- --quick measures every case against its reference and writes the figures', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/main.ts', '--quick'], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  expect(run.status, run.stderr).toBe(0);
  for (const label of ['CSV ingest', 'sqlite3 `.import`', 'csv-parse alone', 'XLSX ingest', 'exceljs WorkbookReader alone', 'Server peak RSS', 'polling', 'bare graphql-yoga', 'latency while', 'Fan-out', 'Late UNIQUE rule', 'CSV ingest on PostgreSQL', 'psql `\\copy`', 'peak RSS on PostgreSQL', 'polling on PostgreSQL', 'SQLite engine', 'Fan-out across instances', "all on the job's instance", 'Scale-out on PostgreSQL', '1 instance', 'UPSERT:', 'UPSERT on PostgreSQL', 'APPEND of', 'jobs side by side', '1 job:', 'Small jobs', '`ingest` answered']) {
    expect(run.stdout).toContain(label);
  }
  const written = /figures written to (bench\/results\/\S+\.json)/.exec(run.stderr)![1];
  const results = JSON.parse(readFileSync(join(root, written), 'utf8')) as Results;
  expect(results.quick).toBe(true);
  const rates = [results.csv.sluice, results.csv.sqlite3, results.csv.csvParse, results.bigCsv.sluice, results.xlsx.sluice, results.xlsx.exceljs, results.polling.sluice, results.polling.bareYoga];
  rates.push(results.upsert.append, results.upsert.upsert, results.postgres.upsert.append, results.postgres.upsert.upsert);
  for (const rate of rates) expect(rate.median).toBeGreaterThan(0);
  expect(results.memory.csv.median).toBeGreaterThan(0);
  expect(results.memory.bigCsv.median).toBeGreaterThan(0);
  expect(results.fanOut.ms.median).toBeGreaterThanOrEqual(0);
  expect(results.sideBySide.sluice.median).toBeGreaterThan(0);
  expect(results.smallJobs.eventMs.samples).toHaveLength(results.sizes.smallJobs);
  expect(results.smallJobs.eventMs.min).toBeGreaterThanOrEqual(results.smallJobs.answerMs.min);
  expect(results.lateUnique.seconds.median).toBeGreaterThan(0);
  expect(results.lateUnique.concurrent).toEqual(['COMPLETED']);
  // PostgreSQL: every job of these cases completed with all its rows, or the bench would have failed.
  const postgres = results.postgres;
  for (const figure of [postgres.csv.sluice, postgres.csv.psql, postgres.memory, postgres.polling, postgres.scaleOut.one, postgres.scaleOut.many]) expect(figure.median).toBeGreaterThan(0);
  expect(postgres.fanOut.one.median).toBeGreaterThanOrEqual(0);
  expect(postgres.fanOut.across.median).toBeGreaterThanOrEqual(0);
  for (const jobs of postgres.scaleOut.jobsPerInstance) expect(jobs.reduce((a, b) => a + b)).toBe(postgres.scaleOut.jobs);
}, 660_000);
