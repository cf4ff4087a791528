import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { connect } from './api';
import { wholeNumber } from './arguments';
import { type ServerOptions, withServerOptions } from './endpoint';
import { usageError } from './errors';
import { type ColumnInput, IngestDocument, type IngestInput, type IngestMode } from './generated';
import { checkWatchOptions, type WatchOptions, watchJob, withWatchOptions } from './watch';

type IngestOptions = ServerOptions &
  WatchOptions & {
    dataset: string;
    columns?: string;
    mode?: IngestMode;
    maxErrors?: number;
    sheet?: string;
    idempotencyKey?: string;
    nullValue?: string[];
    skipRows?: number;
    dryRun?: boolean;
    key?: string[];
  };

const EXAMPLES = `
The job id goes to stdout, alone on its line (with --watch, the first line). Exit codes: sluice --help.

Examples:
  export SLUICE_KEY=$(cat data/default-api-key)
  sluice ingest people.csv --dataset people --watch
  sluice ingest people.csv --dataset people --columns columns.json --max-errors 0
  sluice ingest book.xlsx --dataset sales --sheet 2024 --mode REPLACE --key-file ~/.sluice-key
  sluice ingest export.csv --dataset sales --skip-rows 2 --null-value NA --null-value -
  sluice ingest people.csv --dataset people --dry-run --watch   (validate and count; nothing is written)
  sluice ingest changes.csv --dataset people --mode UPSERT --key id --watch

columns.json holds IngestInput's columns (see schema.graphql), for instance:
  [{ "name": "id", "type": "INTEGER", "required": true, "unique": true },
   { "name": "email", "type": "EMAIL", "aliases": ["E-Mail", "mail"] },
   { "name": "since", "type": "DATE", "format": "DD/MM/YYYY" }]`;

export function addIngestCommand(program: Command): void {
  const command = program
    .command('ingest')
    .description('upload a CSV or XLSX file into a dataset (streamed from disk) and print the job id')
    .argument('<file>', 'the CSV or XLSX file')
    .requiredOption('--dataset <name>', 'the dataset to write into')
    .option('--columns <file.json>', 'a JSON file with the columns and their rules (inferred, or the dataset’s, when absent)')
    .addOption(new Option('--mode <mode>', 'APPEND to the dataset (default), REPLACE its rows, or UPSERT by key').choices(['APPEND', 'REPLACE', 'UPSERT']))
    .option('--key <column>', "a column of the dataset's key (repeat for a key of several columns; UPSERT needs it)", (column: string, earlier: string[] = []) => [...earlier, column])
    .option('--max-errors <n>', 'fail the job once more rows than this are rejected', wholeNumber(0))
    .option('--sheet <name>', 'the XLSX worksheet (default: the first)')
    .option('--idempotency-key <key>', 'sending again with the same key and file answers the same job')
    .option('--null-value <text>', 'a cell text read as empty, besides the empty text (repeat for more)', (text: string, earlier: string[] = []) => [...earlier, text])
    .option('--skip-rows <n>', 'lines (CSV) or sheet rows (XLSX) before the header to skip', wholeNumber(0))
    .option('--dry-run', 'validate and count only: the dataset is left as it is');
  withServerOptions(withWatchOptions(command)).addHelpText('after', EXAMPLES).action(ingest);
}

async function ingest(file: string, options: IngestOptions): Promise<void> {
  checkWatchOptions(options);
  const input = await ingestInput(options);
  const api = await connect(options);
  const { ingest: answer } = await api.upload(IngestDocument, { input }, file);
  if (answer.userErrors.length > 0 || !answer.job) {
    const lines = answer.userErrors.map((error) => `  ${error.code}${error.field ? ` (${error.field.join('.')})` : ''}: ${error.message}`);
    throw usageError(`the server refused the upload:\n${lines.join('\n')}`);
  }
  console.log(answer.job.id);
  if (options.watch) process.exitCode = await watchJob(api, answer.job.id, options);
}

async function ingestInput(options: IngestOptions): Promise<IngestInput> {
  const columns = options.columns === undefined ? undefined : await readColumns(options.columns);
  const { dataset, mode, key, maxErrors, sheet, idempotencyKey, nullValue: nullValues, skipRows, dryRun } = options;
  return { file: null, dataset, columns, mode, key, maxErrors, sheet, idempotencyKey, nullValues, skipRows, dryRun };
}

async function readColumns(path: string): Promise<ColumnInput[]> {
  let columns: unknown;
  try {
    columns = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw usageError(`--columns ${path}: ${(error as Error).message}`);
  }
  // The server checks each column; only the shape is checked here, to point at the file.
  if (!Array.isArray(columns) || !columns.every((column) => typeof column === 'object' && column !== null && !Array.isArray(column))) {
    throw usageError(`--columns ${path}: expected a JSON array of column objects ({ "name": …, "type": … })`);
  }
  return columns as ColumnInput[];
}
