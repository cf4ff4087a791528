// A long differential run of the CSV tokenizer against csv-parse over the generated corpus:
//   npx tsx scripts/fuzz-csv.ts [seed] [count]
// Prints the first file that reads differently (its bytes, options and chunking) and exits 1; else 0.
import { corpusFile, seededRandom } from '../test/helpers/csv-corpus';
import { compareReads } from '../test/helpers/csv-differential';

const seed = Number(process.argv[2] ?? Date.now() % 1_000_000);
const count = Number(process.argv[3] ?? 100_000);

async function main(): Promise<number> {
  const started = Date.now();
  let reads = 0;
  for (let index = 0; index < count; index++) {
    const file = corpusFile(seed, index);
    const comparison = await compareReads(file.bytes, file.options, seededRandom(seed + index));
    reads += comparison.reads;
    if (comparison.mismatch === null) continue;
    console.log(JSON.stringify({ seed, index, text: file.bytes.toString(), options: file.options, ...comparison.mismatch }, null, 1));
    return 1;
  }
  console.log(`seed ${seed}: ${count} files, ${reads} tokenizer reads, all as csv-parse's, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = await main();
