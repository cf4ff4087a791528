import type { Results } from './results';
import type { Spread } from './stats';

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const range = (s: Spread, format: (n: number) => string) => `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`; // 250 MB is 238 MiB
const ratio = (n: number) => `${n.toFixed(2)}×`;
const verdict = (met: boolean) => (met ? 'met' : '**not met**');

const ms = (n: number) => `${count(n)} ms`;

/** UPSERT of the CSV's rows over a dataset holding them (half changed), against their APPEND into a new keyed dataset. */
function upsertRow(r: Results, upsert: Results['upsert'], where: string): string[] {
  const rows = count(r.files.csv.rows);
  return [`UPSERT${where ? ` ${where}` : ''}: ${rows} rows over ${rows} (every key held, half changed), rows/s`, range(upsert.upsert, count), `APPEND of ${rows} rows, keyed: ${range(upsert.append, count)}`, ratio(upsert.upsert.median / upsert.append.median), ''];
}

/** The PostgreSQL engine's rows: against `psql \copy`, against the same case on SQLite, across instances. */
function postgresRows(r: Results): string[][] {
  const pg = r.postgres;
  const { scaleOut: scale } = pg;
  const copyRatio = pg.csv.sluice.median / pg.csv.psql.median;
  const spreadJobs = scale.jobsPerInstance.map((jobs) => jobs.join('/')).join(', ');
  return [
    upsertRow(r, pg.upsert, 'on PostgreSQL'),
    [`CSV ingest on PostgreSQL, ${count(r.files.csv.rows)} rows, rows/s`, range(pg.csv.sluice, count), `psql \`\\copy\`: ${range(pg.csv.psql, count)}`, ratio(copyRatio), `≥ 0.50× (${verdict(copyRatio >= 0.5)})`],
    [`Server peak RSS on PostgreSQL, ${count(r.files.csv.rows)}-row CSV`, range(pg.memory, mib), `SQLite engine: ${range(r.memory.csv, mib)}`, ratio(pg.memory.median / r.memory.csv.median), `≤ 250 MB (${verdict(pg.memory.median <= 250e6)})`],
    ['`job(id)` polling on PostgreSQL, 50 connections, requests/s', range(pg.polling, count), `SQLite engine: ${range(r.polling.sluice, count)}`, ratio(pg.polling.median / r.polling.sluice.median), ''],
    [`Fan-out across instances on PostgreSQL: ${count(r.fanOut.subscribers)} subscribers on B and C, the ${count(r.files.scaleCsv.rows)}-row job on A`, range(pg.fanOut.across, ms), `all on the job's instance: ${range(pg.fanOut.one, ms)}`, ratio(pg.fanOut.across.median / pg.fanOut.one.median), `≤ 1,000 ms (${verdict(pg.fanOut.across.median <= 1000)})`],
    [`Scale-out on PostgreSQL: ${scale.jobs} jobs of ${count(r.files.scaleCsv.rows)} rows, ${scale.instances} instances × ${scale.cores} cores (jobs per instance: ${spreadJobs}), rows/s`, range(scale.many, count), `1 instance × ${scale.cores} cores: ${range(scale.one, count)}`, ratio(scale.many.median / scale.one.median), ''],
  ];
}

/** One Markdown table: every case with Sluice's figure, its reference, the ratio and the target. */
export function formatTable(r: Results): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  const csvRatio = r.csv.sluice.median / r.csv.sqlite3.median;
  const xlsxRatio = r.xlsx.sluice.median / r.xlsx.exceljs.median;
  const growth = r.memory.bigCsv.median / r.memory.csv.median;
  const pollRatio = r.polling.sluice.median / r.polling.bareYoga.median;
  const rows: string[][] = [
    [`CSV ingest, ${count(r.files.csv.rows)} rows (${mb(r.files.csv.bytes)}), rows/s`, range(r.csv.sluice, count), `sqlite3 \`.import\`: ${range(r.csv.sqlite3, count)}`, ratio(csvRatio), `≥ 0.50× (${verdict(csvRatio >= 0.5)})`],
    ['', '', `csv-parse alone: ${range(r.csv.csvParse, count)}`, ratio(r.csv.sluice.median / r.csv.csvParse.median), ''],
    [`CSV ingest, ${r.sideBySide.jobs} jobs side by side (${count(r.files.csv.rows)} rows each, one dataset each), all rows/s`, range(r.sideBySide.sluice, count), `1 job: ${range(r.csv.sluice, count)}`, ratio(r.sideBySide.sluice.median / r.csv.sluice.median), ''],
    [`Small jobs (${r.smallJobs.rows}-row CSV): upload sent → COMPLETED event on \`jobProgress\`, ${r.smallJobs.eventMs.samples.length} jobs`, range(r.smallJobs.eventMs, ms), `upload sent → \`ingest\` answered: ${range(r.smallJobs.answerMs, ms)}`, '', `≤ 50 ms (${verdict(r.smallJobs.eventMs.median <= 50)})`],
    [`CSV ingest, ${count(r.files.bigCsv.rows)} rows (${mb(r.files.bigCsv.bytes)}), rows/s`, range(r.bigCsv.sluice, count), '', '', ''],
    [`XLSX ingest, ${count(r.files.xlsx.rows)} rows (${mb(r.files.xlsx.bytes)}), rows/s`, range(r.xlsx.sluice, count), `exceljs WorkbookReader alone: ${range(r.xlsx.exceljs, count)}`, ratio(xlsxRatio), `≥ 1.00× (${verdict(xlsxRatio >= 1)})`],
    [`Server peak RSS, ${count(r.files.csv.rows)}-row CSV`, range(r.memory.csv, mib), '', '', `≤ 250 MB (${verdict(r.memory.csv.median <= 250e6)})`],
    [`Server peak RSS, ${count(r.files.bigCsv.rows)}-row CSV`, range(r.memory.bigCsv, mib), `the ${count(r.files.csv.rows)}-row figure`, ratio(growth), `≤ 1.10× (${verdict(growth <= 1.1)})`],
    ['`job(id)` polling, 50 connections, requests/s', range(r.polling.sluice, count), `bare graphql-yoga: ${range(r.polling.bareYoga, count)}`, ratio(pollRatio), `≥ 0.80× (${verdict(pollRatio >= 0.8)})`],
    [`\`job(id)\` latency while a ${count(r.files.csv.rows)}-row CSV ingests, p50 / p99`, `${r.polling.whileIngesting.p50Ms.toFixed(1)} / ${r.polling.whileIngesting.p99Ms.toFixed(1)} ms`, '', '', `p99 ≤ 50 ms (${verdict(r.polling.whileIngesting.p99Ms <= 50)})`],
    [`Fan-out: ${count(r.fanOut.subscribers)} graphql-ws subscribers, completion → last terminal event`, range(r.fanOut.ms, ms), '', '', `≤ 1,000 ms (${verdict(r.fanOut.ms.median <= 1000)})`],
    [`Late UNIQUE rule: 1,000 rows checked against the ${count(r.files.bigCsv.rows)}-row dataset (no index), s`, range(r.lateUnique.seconds, (n) => n.toFixed(1)), '', '', ''],
    ['`job(id)` latency meanwhile, p99 / max; a concurrent ingest ended', `${r.lateUnique.pollP99Ms.toFixed(1)} / ${r.lateUnique.pollMaxMs.toFixed(1)} ms; ${r.lateUnique.concurrent.join(', ')}`, '', '', `p99 ≤ 50 ms, all COMPLETED (${verdict(r.lateUnique.pollP99Ms <= 50 && r.lateUnique.concurrent.every((s) => s === 'COMPLETED'))})`],
    upsertRow(r, r.upsert, ''),
    ...postgresRows(r),
  ];
  const header = ['Case', 'Sluice: median (min–max)', 'Reference, same run', 'Ratio', 'Target'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const note = `${r.quick ? 'Quick run (small sizes: the ratios mean little). ' : ''}${r.sizes.repeats} round(s) in rotation, ${r.date}.`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line), '', note].join('\n');
}
