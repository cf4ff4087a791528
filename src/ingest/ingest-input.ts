import type { ColumnType } from '../datasets/column-types';
import { type ColumnSpec, checkColumns, type InputProblem } from '../datasets/columns';
import { checkKeyInput, keyProblem, withKey } from '../datasets/key';
import type { CsvOptions, FileFormat, IngestMode, JobOptions } from '../jobs/model';
import type { StagedUpload } from '../ports/blob-store';
import { checkWebhookUrl, type DestinationPolicy } from '../webhooks/destination';

export interface ColumnInput {
  name: string;
  type: ColumnType;
  required?: boolean | null;
  unique?: boolean | null;
  pattern?: string | null;
  min?: number | null;
  max?: number | null;
  values?: readonly string[] | null;
  aliases?: readonly string[] | null;
  format?: string | null;
}

export interface IngestInput {
  file: StagedUpload;
  dataset: string;
  format?: FileFormat | null;
  columns?: readonly ColumnInput[] | null;
  csv?: { delimiter?: string | null; quote?: string | null; header?: boolean | null; encoding?: string | null } | null;
  sheet?: string | null;
  mode?: IngestMode | null;
  maxErrors?: number | null;
  idempotencyKey?: string | null;
  webhookUrl?: string | null;
  nullValues?: readonly string[] | null;
  skipRows?: number | null;
  dryRun?: boolean | null;
  key?: readonly string[] | null;
}

/** Null markers are rules, not data: a bounded list of short texts. */
export const MAX_NULL_VALUES = 100;
const MAX_NULL_VALUE_LENGTH = 128;

/** A request's options for its job (all but the sheet, which needs the file), with every problem found in them. */
export function jobOptionsOf(
  input: IngestInput,
  maxColumns: number,
  destinations: DestinationPolicy,
): { options: Omit<JobOptions, 'sheet'>; problems: InputProblem[] } {
  const problems: InputProblem[] = [];
  const mode = input.mode ?? 'APPEND';
  const key = input.key ? [...input.key] : null;
  problems.push(...checkKeyInput(key, mode === 'UPSERT', ['input', 'key']));
  const specs = input.columns ? columnSpecs(input.columns) : null;
  if (specs) problems.push(...checkColumns(specs, ['input', 'columns'], maxColumns));
  const keyed = specs && key && problems.length === 0 ? keyedColumns(specs, key, problems) : specs;
  const csv = csvOptions(input.csv, problems);
  const webhookProblem = input.webhookUrl == null ? null : checkWebhookUrl(input.webhookUrl, destinations, ['input', 'webhookUrl']);
  if (webhookProblem) problems.push(webhookProblem);
  if (input.maxErrors != null && input.maxErrors < 0) {
    problems.push({ code: 'INVALID_MAX_ERRORS', field: ['input', 'maxErrors'], message: 'maxErrors must be at least 0' });
  }
  const nullValues = [...(input.nullValues ?? [])];
  problems.push(...checkNullValues(nullValues));
  const skipRows = input.skipRows ?? 0;
  if (skipRows < 0) problems.push({ code: 'INVALID_SKIP_ROWS', field: ['input', 'skipRows'], message: 'skipRows must be at least 0' });
  const options = {
    columns: keyed,
    csv,
    mode,
    maxErrors: input.maxErrors ?? null,
    webhookUrl: input.webhookUrl ?? null,
    nullValues,
    skipRows,
    dryRun: input.dryRun ?? false,
    key,
  };
  return { options, problems };
}

/** The caller's columns with their key marked, once the key is known to name them. */
function keyedColumns(columns: ColumnSpec[], key: readonly string[], problems: InputProblem[]): ColumnSpec[] {
  const problem = keyProblem(columns, key, false);
  if (problem) problems.push({ ...problem, field: ['input', 'key'] });
  return withKey(columns, key);
}

function columnSpecs(columns: readonly ColumnInput[]): ColumnSpec[] {
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    required: c.required ?? false,
    unique: c.unique ?? false,
    pattern: c.pattern ?? null,
    min: c.min ?? null,
    max: c.max ?? null,
    values: c.values ? [...c.values] : null,
    aliases: c.aliases ? [...c.aliases] : null,
    format: c.format ?? null,
  }));
}

function checkNullValues(nullValues: readonly string[]): InputProblem[] {
  const field = ['input', 'nullValues'];
  if (nullValues.length > MAX_NULL_VALUES) return [{ code: 'INVALID_NULL_VALUES', field, message: `nullValues may list at most ${MAX_NULL_VALUES} texts` }];
  const tooLong = nullValues.findIndex((text) => text.length > MAX_NULL_VALUE_LENGTH);
  if (tooLong === -1) return [];
  return [{ code: 'INVALID_NULL_VALUES', field: [...field, String(tooLong)], message: `a null value must be at most ${MAX_NULL_VALUE_LENGTH} characters` }];
}

function csvOptions(input: IngestInput['csv'], problems: InputProblem[]): CsvOptions {
  const options: CsvOptions = {
    delimiter: input?.delimiter ?? null,
    quote: input?.quote ?? '"',
    header: input?.header ?? true,
    encoding: input?.encoding ?? 'utf-8',
  };
  const single = (value: string | null, name: string) => {
    if (value !== null && ([...value].length !== 1 || value === '\n' || value === '\r')) {
      problems.push({ code: 'INVALID_CSV_OPTION', field: ['input', 'csv', name], message: `${name} must be a single character other than a line break` });
    }
  };
  single(options.delimiter, 'delimiter');
  single(options.quote, 'quote');
  if (options.delimiter !== null && options.delimiter === options.quote) {
    problems.push({ code: 'INVALID_CSV_OPTION', field: ['input', 'csv', 'quote'], message: 'quote and delimiter must differ' });
  }
  try {
    new TextDecoder(options.encoding);
  } catch {
    problems.push({ code: 'INVALID_ENCODING', field: ['input', 'csv', 'encoding'], message: `unknown encoding "${options.encoding}"` });
  }
  return options;
}

