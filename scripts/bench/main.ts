// npm run bench [-- --quick]
// Measures Sluice against references on the same machine in the same run, each case several times in
// rotation (so that a noisy moment does not fall on one case only), on the embedded SQLite engine and
// on PostgreSQL (one instance, and several sharing one database); prints one table and writes the
// figures to bench/results/<date>[-quick].json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsv, generateUpsertCsv, generateXlsx } from './data';
import { csvParseAlone, ensureSqliteCli, exceljsAlone, sqliteImport, startBareYoga } from './references';
import { fanOutAcross, scaleOut, type ScaleOutSample } from './instances';
import { concurrentJobs, smallJobs } from './small-jobs';
import { ensureBenchDatabase, onPostgres, psqlCopy } from './postgres';
import { fanOut, ingest, type IngestSample, lateUnique, type LateUniqueSample, load, type LoadSample, polling, upsert, type UpsertSample } from './sluice';
import type { Results, Sizes } from './results';
import { type Spread, spread } from './stats';
import { formatTable } from './table';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quick = process.argv.includes('--quick');
const SIZES: Sizes = quick
  ? { csvRows: 20_000, bigCsvRows: 60_000, xlsxRows: 5_000, repeats: 1, loadSeconds: 2, subscribers: 100, scaleRows: 2_000, smallJobs: 5 }
  : { csvRows: 1_000_000, bigCsvRows: 3_000_000, xlsxRows: 200_000, repeats: 3, loadSeconds: 10, subscribers: 1_000, scaleRows: 150_000, smallJobs: 30 };
/** The small-job case's file: a few rows, so that what is measured is what every job costs whatever its size. */
const SMALL_ROWS = 10;
/** Jobs run side by side in the concurrency case, against the CSV case's one. */
const SIDE_BY_SIDE = 2;
const CONNECTIONS = 50;
/** The scale-out case: this many jobs (one dataset each) on this many instances against one instance, each running at most maxConcurrentJobs at once. */
const SCALE = { jobs: 6, instances: 3, maxConcurrentJobs: 2 };
const dataDir = join(root, 'bench', 'data');
const resultsDir = join(root, 'bench', 'results');
const serverDir = join(dataDir, 'server');

/** The bench's files, generated once into bench/data. */
async function benchFiles() {
  const files = {
    csv: join(dataDir, `bench-${SIZES.csvRows}.csv`),
    bigCsv: join(dataDir, `bench-${SIZES.bigCsvRows}.csv`),
    xlsx: join(dataDir, `bench-${SIZES.xlsxRows}.xlsx`),
    sample: join(dataDir, 'bench-1000.csv'),
    small: join(dataDir, `bench-${SMALL_ROWS}.csv`),
    scaleCsv: join(dataDir, `bench-${SIZES.scaleRows}.csv`),
    upsertCsv: join(dataDir, `bench-${SIZES.csvRows}-upsert.csv`),
  };
  await generateCsv(files.csv, SIZES.csvRows);
  await generateCsv(files.bigCsv, SIZES.bigCsvRows);
  await generateXlsx(files.xlsx, SIZES.xlsxRows);
  await generateCsv(files.sample, 1_000);
  await generateCsv(files.small, SMALL_ROWS);
  await generateCsv(files.scaleCsv, SIZES.scaleRows);
  await generateUpsertCsv(files.upsertCsv, SIZES.csvRows);
  return files;
}
type Files = Awaited<ReturnType<typeof benchFiles>>;

/** Every sample of every case, one per round. */
function emptyRuns() {
  return {
    csvSluice: [] as IngestSample[],
    sideBySide: [] as number[],
    smallEventMs: [] as number[],
    smallAnswerMs: [] as number[],
    sqlite3: [] as number[],
    csvParse: [] as number[],
    bigCsvSluice: [] as IngestSample[],
    xlsxSluice: [] as IngestSample[],
    exceljs: [] as number[],
    pollSluice: [] as LoadSample[],
    pollYoga: [] as LoadSample[],
    fanOutMs: [] as number[],
    lateUnique: [] as LateUniqueSample[],
    upsert: [] as UpsertSample[],
    pgUpsert: [] as UpsertSample[],
    pgCsv: [] as IngestSample[],
    psqlCopy: [] as number[],
    pgPoll: [] as LoadSample[],
    pgFanOutMs: [] as number[],
    pgFanOutAcrossMs: [] as number[],
    scaleOne: [] as ScaleOutSample[],
    scaleMany: [] as ScaleOutSample[],
  };
}
type Runs = ReturnType<typeof emptyRuns>;
type Step = (name: string) => void;

/** One round of the cases on the embedded SQLite engine and their references. */
async function sqliteRound(runs: Runs, files: Files, step: Step): Promise<void> {
  step('sqlite3 .import');
  runs.sqlite3.push(sqliteImport(files.csv, join(dataDir, 'reference.db')));
  step('csv-parse alone');
  runs.csvParse.push((await csvParseAlone(files.csv)).seconds);
  step('sluice CSV');
  runs.csvSluice.push(await ingest(serverDir, files.csv, SIZES.csvRows));
  step(`sluice CSV, ${SIDE_BY_SIDE} jobs side by side`);
  runs.sideBySide.push(await concurrentJobs(serverDir, files.csv, SIZES.csvRows, SIDE_BY_SIDE));
  step(`sluice small jobs (${SMALL_ROWS} rows), ${SIZES.smallJobs} one after the other`);
  const small = await smallJobs(serverDir, files.small, SIZES.smallJobs);
  runs.smallEventMs.push(...small.eventMs);
  runs.smallAnswerMs.push(...small.answerMs);
  step('exceljs alone');
  runs.exceljs.push((await exceljsAlone(files.xlsx)).seconds);
  step('sluice XLSX');
  runs.xlsxSluice.push(await ingest(serverDir, files.xlsx, SIZES.xlsxRows));
  step('bare yoga polling');
  const yoga = await startBareYoga();
  try {
    runs.pollYoga.push(await load(yoga.url, { query: '{ hello }' }, CONNECTIONS, SIZES.loadSeconds));
  } finally {
    await yoga.stop();
  }
  step('sluice polling');
  runs.pollSluice.push(await polling(serverDir, files.sample, CONNECTIONS, SIZES.loadSeconds));
  step('sluice fan-out');
  runs.fanOutMs.push(await fanOut(serverDir, files.csv, SIZES.subscribers));
  step('sluice big CSV');
  runs.bigCsvSluice.push(await ingest(serverDir, files.bigCsv, SIZES.bigCsvRows));
  step('sluice late UNIQUE rule on the big dataset');
  runs.lateUnique.push(await lateUnique(serverDir, files.bigCsv, files.sample, 1_000, files.csv));
  step('sluice UPSERT over the CSV, against its APPEND');
  runs.upsert.push(await upsert(serverDir, files.csv, files.upsertCsv, SIZES.csvRows));
}

/** One round of the cases on PostgreSQL, each in a fresh schema: one instance, then several sharing it. */
async function postgresRound(runs: Runs, files: Files, step: Step): Promise<void> {
  step('psql \\copy');
  runs.psqlCopy.push(await psqlCopy(files.csv));
  step('sluice CSV on PostgreSQL');
  runs.pgCsv.push(await onPostgres((env) => ingest(serverDir, files.csv, SIZES.csvRows, env)));
  step('sluice UPSERT over the CSV on PostgreSQL, against its APPEND');
  runs.pgUpsert.push(await onPostgres((env) => upsert(serverDir, files.csv, files.upsertCsv, SIZES.csvRows, env)));
  step('sluice polling on PostgreSQL');
  runs.pgPoll.push(await onPostgres((env) => polling(serverDir, files.sample, CONNECTIONS, SIZES.loadSeconds, env)));
  step('sluice fan-out on PostgreSQL, one instance');
  runs.pgFanOutMs.push(await onPostgres((env) => fanOut(serverDir, files.scaleCsv, SIZES.subscribers, env)));
  step('sluice fan-out on PostgreSQL, across instances');
  runs.pgFanOutAcrossMs.push(await fanOutAcross(serverDir, files.scaleCsv, SIZES.subscribers));
  for (const instances of [1, SCALE.instances]) {
    step(`sluice scale-out on PostgreSQL, ${instances} instance(s)`);
    const sample = await scaleOut(serverDir, files.scaleCsv, SIZES.scaleRows, { ...SCALE, instances });
    (instances === 1 ? runs.scaleOne : runs.scaleMany).push(sample);
  }
}

/** The figures of every case over its rounds. */
function summarize(runs: Runs, files: Files): Results {
  const file = (path: string, rows: number) => ({ path: path.slice(root.length), bytes: statSync(path).size, rows });
  const rate = (rows: number, seconds: number[]) => spread(seconds.map((s) => rows / s));
  return {
    date: new Date().toISOString(),
    quick,
    sizes: SIZES,
    files: { csv: file(files.csv, SIZES.csvRows), bigCsv: file(files.bigCsv, SIZES.bigCsvRows), xlsx: file(files.xlsx, SIZES.xlsxRows), scaleCsv: file(files.scaleCsv, SIZES.scaleRows) },
    csv: {
      sluice: rate(SIZES.csvRows, runs.csvSluice.map((s) => s.seconds)),
      sqlite3: rate(SIZES.csvRows, runs.sqlite3),
      csvParse: rate(SIZES.csvRows, runs.csvParse),
    },
    sideBySide: { jobs: SIDE_BY_SIDE, sluice: spread(runs.sideBySide) },
    smallJobs: { rows: SMALL_ROWS, eventMs: spread(runs.smallEventMs), answerMs: spread(runs.smallAnswerMs) },
    bigCsv: { sluice: rate(SIZES.bigCsvRows, runs.bigCsvSluice.map((s) => s.seconds)) },
    xlsx: { sluice: rate(SIZES.xlsxRows, runs.xlsxSluice.map((s) => s.seconds)), exceljs: rate(SIZES.xlsxRows, runs.exceljs) },
    memory: { csv: spread(runs.csvSluice.map((s) => s.peakRssBytes)), bigCsv: spread(runs.bigCsvSluice.map((s) => s.peakRssBytes)) },
    polling: {
      sluice: spread(runs.pollSluice.map((s) => s.requestsPerSecond)),
      bareYoga: spread(runs.pollYoga.map((s) => s.requestsPerSecond)),
      p99Ms: Math.max(...runs.pollSluice.map((s) => s.p99Ms)),
      whileIngesting: {
        p50Ms: spread(runs.csvSluice.map((s) => s.pollP50Ms)).median,
        p99Ms: Math.max(...runs.csvSluice.map((s) => s.pollP99Ms)),
      },
    },
    fanOut: { subscribers: SIZES.subscribers, ms: spread(runs.fanOutMs) },
    lateUnique: {
      seconds: spread(runs.lateUnique.map((s) => s.seconds)),
      pollP99Ms: Math.max(...runs.lateUnique.map((s) => s.pollP99Ms)),
      pollMaxMs: Math.max(...runs.lateUnique.map((s) => s.pollMaxMs)),
      concurrent: runs.lateUnique.map((s) => s.concurrent),
    },
    upsert: upsertRates(runs.upsert, rate),
    postgres: summarizePostgres(runs, rate),
  };
}

function upsertRates(samples: UpsertSample[], rate: (rows: number, seconds: number[]) => Spread): Results['upsert'] {
  return { append: rate(SIZES.csvRows, samples.map((s) => s.appendSeconds)), upsert: rate(SIZES.csvRows, samples.map((s) => s.upsertSeconds)) };
}

function summarizePostgres(runs: Runs, rate: (rows: number, seconds: number[]) => Spread): Results['postgres'] {
  return {
    upsert: upsertRates(runs.pgUpsert, rate),
    csv: { sluice: rate(SIZES.csvRows, runs.pgCsv.map((s) => s.seconds)), psql: rate(SIZES.csvRows, runs.psqlCopy) },
    memory: spread(runs.pgCsv.map((s) => s.peakRssBytes)),
    polling: spread(runs.pgPoll.map((s) => s.requestsPerSecond)),
    fanOut: { one: spread(runs.pgFanOutMs), across: spread(runs.pgFanOutAcrossMs) },
    scaleOut: {
      ...SCALE,
      cores: availableParallelism(),
      one: spread(runs.scaleOne.map((s) => s.rowsPerSecond)),
      many: spread(runs.scaleMany.map((s) => s.rowsPerSecond)),
      jobsPerInstance: runs.scaleMany.map((s) => s.jobsPerInstance),
    },
  };
}

async function main(): Promise<void> {
  ensureSqliteCli();
  await ensureBenchDatabase();
  // The server runs as `npm start` runs it: built first.
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  const files = await benchFiles();
  const runs = emptyRuns();
  for (let round = 1; round <= SIZES.repeats; round++) {
    const step = (name: string) => console.error(`bench: round ${round}/${SIZES.repeats}: ${name}`);
    await sqliteRound(runs, files, step);
    await postgresRound(runs, files, step);
  }
  const results = summarize(runs, files);
  console.log(formatTable(results));
  const name = `${results.date.slice(0, 19).replaceAll(':', '-')}${quick ? '-quick' : ''}.json`;
  writeFileSync(join(resultsDir, name), `${JSON.stringify(results, null, 2)}\n`);
  console.error(`bench: figures written to bench/results/${name}`);
}

await main();
