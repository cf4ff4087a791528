// npm run bench [-- --quick] [-- --rows N] [-- --subscribers N]
// Ingests a generated CSV through the real server (a child process, as `npm start` runs it) and
// compares it, in the same run, with the sqlite3 CLI's `.import` of the same file into a typed table;
// then measures subscription fan-out on one job.
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { type ColumnInput, IngestDocument, JobDocument, JobProgressDocument } from '../test/generated/graphql';
import { startServerProcess } from '../test/helpers/process';
import { SubscriptionClient } from '../test/helpers/subscribe';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const rowsArg = process.argv.indexOf('--rows');
const rows = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : quick ? 20_000 : 1_000_000;
const repeats = quick ? 1 : 3;
const dataDir = join(root, 'bench', 'data');
const resultsDir = join(root, 'bench', 'results');

/** mulberry32: a small seeded generator, so every run ingests the same bytes. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'fox', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];

async function generateCsv(path: string, count: number): Promise<void> {
  if (existsSync(path)) return;
  const next = random(42);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  const word = () => WORDS[Math.floor(next() * WORDS.length)];
  const out = createWriteStream(path);
  out.write('id,uuid,name,email,amount,day,active,notes\n');
  for (let i = 1; i <= count; i++) {
    const name = `${word()} ${word()}`;
    const notes = next() < 0.3 ? `"${word()}, ""${word()}"" and ${word()}"` : `${word()} ${word()} ${word()} ${word()}`;
    const line = `${i},${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)},${name},${name.replace(' ', '.')}${i}@example.com,${(next() * 10000).toFixed(2)},20${10 + Math.floor(next() * 15)}-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 9)},${next() < 0.5},${notes}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
}

const COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true },
  { name: 'uuid', type: 'STRING', required: true, pattern: '^[0-9a-f-]{36}$' },
  { name: 'name', type: 'STRING', required: true, max: 100 },
  { name: 'email', type: 'EMAIL', required: true },
  { name: 'amount', type: 'DECIMAL', min: 0 },
  { name: 'day', type: 'DATE' },
  { name: 'active', type: 'BOOLEAN' },
  { name: 'notes', type: 'STRING' },
];

interface Sample {
  seconds: number;
  peakRssBytes?: number;
  pollP50Ms?: number;
  pollP99Ms?: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

async function sluiceIngest(csv: string): Promise<Sample> {
  const dir = join(dataDir, 'server');
  rmSync(dir, { recursive: true, force: true });
  const server = await startServerProcess(dir);
  try {
    const started = performance.now();
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'bench', columns: COLUMNS } }, csv, 'bench.csv');
    const id = answer.data!.ingest.job!.id;
    // Poll as a client would, timing each job(id) answer while the ingest runs.
    const latencies: number[] = [];
    let job;
    for (;;) {
      const asked = performance.now();
      job = (await server.client.request(JobDocument, { id })).job!;
      if (job.status !== 'RUNNING' && job.status !== 'PENDING') break;
      if (job.status === 'RUNNING') latencies.push(performance.now() - asked);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    if (job.status !== 'COMPLETED' || job.progress.rowsWritten !== rows) throw new Error(`bench job ended ${job.status}: ${JSON.stringify(job.progress)}`);
    return { seconds, peakRssBytes: server.peakRss(), pollP50Ms: percentile(latencies, 0.5), pollP99Ms: percentile(latencies, 0.99) };
  } finally {
    await server.kill('SIGTERM');
  }
}

/**
 * Fan-out: `subscribers` graphql-ws subscriptions (over 50 connections) on one job; the time from
 * the job's completedAt to the last subscriber's terminal event.
 */
async function fanOut(csv: string, subscribers: number): Promise<number> {
  const dir = join(dataDir, 'fan-out');
  rmSync(dir, { recursive: true, force: true });
  const server = await startServerProcess(dir);
  const clients = Array.from({ length: Math.min(50, subscribers) }, () => new SubscriptionClient(server.url, 'ws'));
  try {
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'fan-out', columns: COLUMNS } }, csv, 'bench.csv');
    const id = answer.data!.ingest.job!.id;
    const subscriptions = Array.from({ length: subscribers }, (_, i) => clients[i % clients.length].subscribe(JobProgressDocument, { id }));
    await Promise.all(subscriptions.map((subscription) => subscription.done));
    const job = (await server.client.request(JobDocument, { id })).job!;
    const terminal = subscriptions.map((subscription) => subscription.events.at(-1));
    if (job.status !== 'COMPLETED' || terminal.some((event) => event?.data.jobProgress.status !== 'COMPLETED')) {
      throw new Error('fan-out: not every subscriber got the COMPLETED event');
    }
    return Math.max(...terminal.map((event) => event!.at)) - Date.parse(job.completedAt!);
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await server.kill('SIGTERM');
  }
}

function sqliteImport(csv: string): Sample {
  const db = join(dataDir, 'reference.db');
  rmSync(db, { force: true });
  execFileSync('sqlite3', [db, 'CREATE TABLE bench (id INTEGER, uuid TEXT, name TEXT, email TEXT, amount REAL, day TEXT, active TEXT, notes TEXT);']);
  const started = performance.now();
  execFileSync('sqlite3', [db, `.import --csv --skip 1 ${csv} bench`]);
  return { seconds: (performance.now() - started) / 1000 };
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

async function main(): Promise<void> {
  if (spawnSync('sqlite3', ['-version']).status !== 0) {
    console.error('bench: the sqlite3 CLI is missing (apt-get install -y sqlite3)');
    process.exit(1);
  }
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  const csv = join(dataDir, `bench-${rows}.csv`);
  await generateCsv(csv, rows);
  const sluice: Sample[] = [];
  const reference: Sample[] = [];
  // Rotate the cases so that a noisy moment on the machine does not fall on one case only.
  for (let i = 0; i < repeats; i++) {
    reference.push(sqliteImport(csv));
    sluice.push(await sluiceIngest(csv));
  }
  const subscribersArg = process.argv.indexOf('--subscribers');
  const subscribers = subscribersArg > 0 ? Number(process.argv[subscribersArg + 1]) : quick ? 100 : 1000;
  const fanOutMs = await fanOut(csv, subscribers);
  const sluiceRate = rows / median(sluice.map((s) => s.seconds));
  const referenceRate = rows / median(reference.map((s) => s.seconds));
  const peak = Math.max(...sluice.map((s) => s.peakRssBytes!));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const range = (samples: Sample[]) => `${Math.min(...samples.map((s) => s.seconds)).toFixed(2)}–${Math.max(...samples.map((s) => s.seconds)).toFixed(2)} s`;
  const table = [
    `CSV ingest, ${fmt(rows)} rows × 8 columns (${(statSync(csv).size / 1e6).toFixed(1)} MB), ${repeats} run(s) each, median`,
    `  sluice (upload -> COMPLETED, validation on)  ${fmt(sluiceRate)} rows/s  (${range(sluice)})`,
    `  sqlite3 .import --csv (typed table)           ${fmt(referenceRate)} rows/s  (${range(reference)})`,
    `  ratio sluice / sqlite3                        ${(sluiceRate / referenceRate).toFixed(2)}×`,
    `  server peak RSS                               ${(peak / 1024 / 1024).toFixed(0)} MiB`,
    `  job(id) latency while ingesting, p50 / p99    ${median(sluice.map((s) => s.pollP50Ms!)).toFixed(1)} / ${median(sluice.map((s) => s.pollP99Ms!)).toFixed(1)} ms`,
    `Fan-out: ${fmt(subscribers)} graphql-ws subscribers on one job, completion -> last terminal event: ${fanOutMs} ms`,
  ].join('\n');
  console.log(table);
  const result = { date: new Date().toISOString(), rows, fileBytes: statSync(csv).size, sluice, reference, sluiceRowsPerSecond: sluiceRate, referenceRowsPerSecond: referenceRate, peakRssBytes: peak, fanOut: { subscribers, ms: fanOutMs } };
  writeFileSync(join(resultsDir, `csv-${quick ? 'quick' : rows}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
