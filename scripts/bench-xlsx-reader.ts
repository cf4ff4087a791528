// Rows/s of Sluice's XLSX sheet reader against exceljs's WorkbookReader alone, same file, same process.
// Usage: npx tsx scripts/bench-xlsx-reader.ts [file] [rows] [rounds]
// The file is generated with the bench's generator when missing (strings shared, sheet before its strings).
import { join } from 'node:path';
import { generateXlsx } from './bench/data';
import { exceljsAlone } from './bench/references';
import { openSheetRows } from '../src/ingest/xlsx-sheet-reader';
import { ZipDirectory } from '../src/ingest/zip-directory';

const rows = Number(process.argv[3] ?? 200_000);
const file = process.argv[2] ?? join(import.meta.dirname, '..', 'bench', 'data', `bench-${rows}.xlsx`);
const rounds = Number(process.argv[4] ?? 3);
const LIMITS = { maxEntries: 10_000, maxEntryBytes: 2 ** 31, maxTotalBytes: 2 ** 32, maxRatio: 1_000 };

async function sluiceAlone(path: string): Promise<{ seconds: number; rows: number }> {
  const started = performance.now();
  const zip = await ZipDirectory.open(path, LIMITS);
  let count = 0;
  try {
    const sheet = await openSheetRows(zip, null, () => {});
    if (sheet) for await (const batch of sheet) count += batch.length;
  } finally {
    zip.close();
  }
  return { seconds: (performance.now() - started) / 1000, rows: count };
}

await generateXlsx(file, rows);
for (let round = 1; round <= rounds; round++) {
  for (const [name, read] of [['exceljs WorkbookReader', exceljsAlone], ['sluice sheet reader', sluiceAlone]] as const) {
    const { seconds, rows: read_ } = await read(file);
    console.log(`round ${round} ${name}: ${read_} rows in ${seconds.toFixed(2)} s = ${Math.round(read_ / seconds)} rows/s`);
  }
}
