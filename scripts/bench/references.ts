// What Sluice is measured against, each on the same file in the same run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createReadStream, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';

/** Seconds the sqlite3 CLI takes to `.import --csv` the file into a typed table. */
export function sqliteImport(csv: string, db: string): number {
  rmSync(db, { force: true });
  execFileSync('sqlite3', [db, 'CREATE TABLE bench (id INTEGER, uuid TEXT, name TEXT, email TEXT, amount REAL, day TEXT, active INTEGER, notes TEXT);']);
  const started = performance.now();
  execFileSync('sqlite3', [db, `.import --csv --skip 1 ${csv} bench`]);
  const seconds = (performance.now() - started) / 1000;
  rmSync(db, { force: true });
  return seconds;
}

function hasSqliteCli(): boolean {
  return spawnSync('sqlite3', ['-version']).status === 0;
}

/** Makes sure the sqlite3 CLI is there, installing the Debian package when it is not (as root or through sudo). */
export function ensureSqliteCli(): void {
  if (hasSqliteCli()) return;
  console.error('bench: installing the sqlite3 CLI (apt-get install -y sqlite3)');
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  for (const args of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'sqlite3']]) {
    const [command, ...rest] = [...asRoot, ...args];
    spawnSync(command, rest, { stdio: 'inherit' });
  }
  if (!hasSqliteCli()) throw new Error('the bench needs the sqlite3 CLI as its reference: install it with `apt-get install -y sqlite3`');
}

/** Seconds csv-parse alone takes to parse the file (records taken in bursts with read(), as a fast consumer does). */
export async function csvParseAlone(csv: string): Promise<{ seconds: number; records: number }> {
  const started = performance.now();
  const parser = parse({ relax_column_count: true, skip_empty_lines: true });
  createReadStream(csv, { highWaterMark: 256 * 1024 }).pipe(parser);
  let records = 0;
  await new Promise<void>((resolve, reject) => {
    parser.on('readable', () => {
      while (parser.read() !== null) records++;
    });
    parser.once('end', resolve);
    parser.once('error', reject);
  });
  return { seconds: (performance.now() - started) / 1000, records };
}

/** Seconds exceljs's streaming WorkbookReader alone takes to read every row of the workbook. */
export async function exceljsAlone(xlsx: string): Promise<{ seconds: number; rows: number }> {
  const started = performance.now();
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(createReadStream(xlsx), { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  let rows = 0;
  for await (const worksheet of reader) {
    for await (const _row of worksheet) rows++;
  }
  return { seconds: (performance.now() - started) / 1000, rows };
}

/** Starts the bare graphql-yoga server in its own process; resolves with its URL and a stop function. */
export async function startBareYoga(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bare-yoga.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the bare yoga server exited with code ${code}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
