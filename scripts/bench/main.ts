// npm run bench [-- --quick]
// Measures Sluice against references on the same machine in the same run, each case several times in
// rotation (so that a noisy moment does not fall on one case only); prints one table and writes the
// figures to bench/results/<date>[-quick].json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsv, generateXlsx } from './data';
import { csvParseAlone, ensureSqliteCli, exceljsAlone, sqliteImport, startBareYoga } from './references';
import { fanOut, ingest, type IngestSample, lateUnique, type LateUniqueSample, load, type LoadSample, polling } from './sluice';
import type { Results, Sizes } from './results';
import { spread } from './stats';
import { formatTable } from './table';

const root = fileURLToPath(new URL('../..', import.meta.url));
const quick = process.argv.includes('--quick');
const SIZES: Sizes = quick
  ? { csvRows: 20_000, bigCsvRows: 60_000, xlsxRows: 5_000, repeats: 1, loadSeconds: 2, subscribers: 100 }
  : { csvRows: 1_000_000, bigCsvRows: 3_000_000, xlsxRows: 200_000, repeats: 3, loadSeconds: 10, subscribers: 1_000 };
const CONNECTIONS = 50;
const dataDir = join(root, 'bench', 'data');
const resultsDir = join(root, 'bench', 'results');


async function main(): Promise<void> {
  ensureSqliteCli();
  // The server runs as `npm start` runs it: built first.
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  const csv = join(dataDir, `bench-${SIZES.csvRows}.csv`);
  const bigCsv = join(dataDir, `bench-${SIZES.bigCsvRows}.csv`);
  const xlsx = join(dataDir, `bench-${SIZES.xlsxRows}.xlsx`);
  const sample = join(dataDir, 'bench-1000.csv');
  await generateCsv(csv, SIZES.csvRows);
  await generateCsv(bigCsv, SIZES.bigCsvRows);
  await generateXlsx(xlsx, SIZES.xlsxRows);
  await generateCsv(sample, 1_000);
  const serverDir = join(dataDir, 'server');

  const runs = {
    csvSluice: [] as IngestSample[],
    sqlite3: [] as number[],
    csvParse: [] as number[],
    bigCsvSluice: [] as IngestSample[],
    xlsxSluice: [] as IngestSample[],
    exceljs: [] as number[],
    pollSluice: [] as LoadSample[],
    pollYoga: [] as LoadSample[],
    fanOutMs: [] as number[],
    lateUnique: [] as LateUniqueSample[],
  };
  for (let round = 1; round <= SIZES.repeats; round++) {
    const step = (name: string) => console.error(`bench: round ${round}/${SIZES.repeats}: ${name}`);
    step('sqlite3 .import');
    runs.sqlite3.push(sqliteImport(csv, join(dataDir, 'reference.db')));
    step('csv-parse alone');
    runs.csvParse.push((await csvParseAlone(csv)).seconds);
    step('sluice CSV');
    runs.csvSluice.push(await ingest(serverDir, csv, SIZES.csvRows));
    step('exceljs alone');
    runs.exceljs.push((await exceljsAlone(xlsx)).seconds);
    step('sluice XLSX');
    runs.xlsxSluice.push(await ingest(serverDir, xlsx, SIZES.xlsxRows));
    step('bare yoga polling');
    const yoga = await startBareYoga();
    try {
      runs.pollYoga.push(await load(yoga.url, { query: '{ hello }' }, CONNECTIONS, SIZES.loadSeconds));
    } finally {
      await yoga.stop();
    }
    step('sluice polling');
    runs.pollSluice.push(await polling(serverDir, sample, CONNECTIONS, SIZES.loadSeconds));
    step('sluice fan-out');
    runs.fanOutMs.push(await fanOut(serverDir, csv, SIZES.subscribers));
    step('sluice big CSV');
    runs.bigCsvSluice.push(await ingest(serverDir, bigCsv, SIZES.bigCsvRows));
    step('sluice late UNIQUE rule on the big dataset');
    runs.lateUnique.push(await lateUnique(serverDir, bigCsv, sample, 1_000, csv));
  }

  const file = (path: string, rows: number) => ({ path: path.slice(root.length), bytes: statSync(path).size, rows });
  const rate = (rows: number, seconds: number[]) => spread(seconds.map((s) => rows / s));
  const results: Results = {
    date: new Date().toISOString(),
    quick,
    sizes: SIZES,
    files: { csv: file(csv, SIZES.csvRows), bigCsv: file(bigCsv, SIZES.bigCsvRows), xlsx: file(xlsx, SIZES.xlsxRows) },
    csv: {
      sluice: rate(SIZES.csvRows, runs.csvSluice.map((s) => s.seconds)),
      sqlite3: rate(SIZES.csvRows, runs.sqlite3),
      csvParse: rate(SIZES.csvRows, runs.csvParse),
    },
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
  };
  console.log(formatTable(results));
  const name = `${results.date.slice(0, 19).replaceAll(':', '-')}${quick ? '-quick' : ''}.json`;
  writeFileSync(join(resultsDir, name), `${JSON.stringify(results, null, 2)}\n`);
  console.error(`bench: figures written to bench/results/${name}`);
}

await main();
