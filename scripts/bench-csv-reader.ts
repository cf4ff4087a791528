// CPU per row of Sluice's CSV tokenizer against csv-parse set up as the CSV source sets it up, same
// file, same process, both streamed in the source's 64 KiB reads; plain reading alone for scale.
// Usage: npx tsx scripts/bench-csv-reader.ts [file]   (the bench's 1M-row file by default)
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { csvParseParser } from '../src/ingest/csv-parse-reader';
import { CsvTokenizer } from '../src/ingest/csv-tokenizer';

const path = process.argv[2] ?? join(import.meta.dirname, '..', 'bench', 'data', 'bench-1000000.csv');
const options = { delimiter: ',', quote: '"', bom: true, maxRecordBytes: 1024 * 1024, onSkipped: () => {} };
const chunks = () => createReadStream(path, { highWaterMark: 64 * 1024 });

async function tokenizer(): Promise<number> {
  const tokens = new CsvTokenizer(options);
  let rows = 0;
  for await (const chunk of chunks()) {
    tokens.push(chunk as Buffer);
    rows += tokens.take().records.length;
  }
  tokens.end();
  return rows + tokens.take().records.length;
}

async function csvParse(): Promise<number> {
  const parser = csvParseParser(options);
  let rows = 0;
  chunks().pipe(parser);
  for await (const _ of parser) rows++;
  return rows;
}

async function readOnly(): Promise<number> {
  let rows = 0;
  for await (const chunk of chunks()) for (let at = (chunk as Buffer).indexOf(10); at !== -1; at = (chunk as Buffer).indexOf(10, at + 1)) rows++;
  return rows;
}

for (const [name, run] of [['reading alone', readOnly], ['sluice tokenizer', tokenizer], ['csv-parse', csvParse], ['sluice tokenizer', tokenizer], ['csv-parse', csvParse]] as const) {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const rows = await run();
  const used = process.cpuUsage(cpu);
  const micros = used.user + used.system;
  console.log(`${name}: ${rows} rows (lines), CPU ${(micros / 1e6).toFixed(2)} s = ${(micros / rows).toFixed(2)} µs/row, wall ${((performance.now() - wall) / 1000).toFixed(2)} s`);
}
