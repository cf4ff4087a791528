import { compileDateLayout } from '../ingest/date-layout';
import { compileUserPattern } from '../ingest/pattern';
import { isBlank, MISMATCH, toColumnValue } from '../ingest/values';
import type { ColumnType } from './column-types';

/** A column of a job's schema: its name and type, and the rules its values are checked against. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  required: boolean;
  unique: boolean;
  pattern: string | null;
  min: number | null;
  max: number | null;
  values: string[] | null;
  /** Other header names that mean this column (matched as names are: trimmed, in any case). */
  aliases: string[] | null;
  /** DATE/DATETIME: the layout of the file's text (`DD/MM/YYYY`); null: ISO 8601. */
  format: string | null;
  /** Part of the dataset's key (see key.ts); absent: not. */
  key?: boolean;
}

/**
 * A column as its dataset keeps it: the name and type every later job must match, and the rules
 * it was declared with, which jobs sent without columns are checked against. Datasets stored
 * before rules were kept have only name, type and required: a rule absent is no rule.
 */
export type DatasetColumn = Pick<ColumnSpec, 'name' | 'type' | 'required'> & Partial<ColumnSpec>;

/** A problem with a caller's input, reported as a userError on the mutation payload. */
export interface InputProblem {
  code: string;
  /** The offending input field; null when no field is wrong (a workspace limit). */
  field: string[] | null;
  message: string;
}

export const MAX_NAME_LENGTH = 128;

/** How header texts and column names (and aliases) are compared: trimmed, in any case. */
export function headerKey(name: string): string {
  return name.trim().toLowerCase();
}
/** Allowed values of one column, and the length of a pattern: rules, not data. */
export const MAX_ALLOWED_VALUES = 1000;
export const MAX_PATTERN_LENGTH = 1000;
export const MAX_ALIASES = 20;

/** Dataset and column names: any printable text (they never reach SQL), trimmed, bounded. */
export function checkName(name: string, what: string, field: string[]): InputProblem | null {
  if (name.trim() === '') return { code: 'INVALID_NAME', field, message: `${what} must not be empty` };
  if (name !== name.trim()) return { code: 'INVALID_NAME', field, message: `${what} must not start or end with white space` };
  if ([...name].length > MAX_NAME_LENGTH) {
    return { code: 'INVALID_NAME', field, message: `${what} must be at most ${MAX_NAME_LENGTH} characters` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return { code: 'INVALID_NAME', field, message: `${what} must not contain control characters` };
  }
  return null;
}

const NUMERIC: ReadonlySet<ColumnType> = new Set(['INTEGER', 'DECIMAL']);
const TEXTUAL: ReadonlySet<ColumnType> = new Set(['STRING', 'EMAIL']);

/** Checks a caller's column definitions (at most `maxColumns`, the limit on a file's width); every problem is reported, with the path of the offending field. */
export function checkColumns(columns: readonly ColumnSpec[], basePath: string[], maxColumns: number): InputProblem[] {
  const problems: InputProblem[] = [];
  if (columns.length === 0) problems.push({ code: 'INVALID_COLUMN', field: basePath, message: 'columns must not be empty' });
  if (columns.length > maxColumns) problems.push({ code: 'TOO_MANY_COLUMNS', field: basePath, message: `at most ${maxColumns} columns are supported` });
  columns.forEach((column, index) => problems.push(...checkColumn(column, [...basePath, String(index)])));
  problems.push(...checkNamesApart(columns, basePath));
  return problems;
}

function checkColumn(column: ColumnSpec, path: string[]): InputProblem[] {
  return [
    checkName(column.name, 'column name', [...path, 'name']),
    checkPattern(column, path),
    checkBounds(column, path),
    ...checkAllowedValues(column, path),
    ...checkAliases(column, path),
    checkFormat(column, path),
  ].filter((problem): problem is InputProblem => problem !== null);
}

function checkPattern(column: ColumnSpec, path: string[]): InputProblem | null {
  if (column.pattern === null) return null;
  const field = [...path, 'pattern'];
  if (column.pattern.length > MAX_PATTERN_LENGTH) return { code: 'INVALID_PATTERN', field, message: `pattern must be at most ${MAX_PATTERN_LENGTH} characters` };
  if (!TEXTUAL.has(column.type)) return { code: 'INVALID_COLUMN', field, message: `pattern applies to STRING and EMAIL columns, not ${column.type}` };
  try {
    compileUserPattern(column.pattern);
    return null;
  } catch (error) {
    return { code: 'INVALID_PATTERN', field, message: `invalid regular expression: ${(error as Error).message}` };
  }
}

function checkBounds(column: ColumnSpec, path: string[]): InputProblem | null {
  if (column.min === null && column.max === null) return null;
  const field = [...path, 'min'];
  if (!NUMERIC.has(column.type) && !TEXTUAL.has(column.type)) {
    return { code: 'INVALID_COLUMN', field, message: `min and max apply to INTEGER, DECIMAL, STRING and EMAIL columns, not ${column.type}` };
  }
  if (column.min !== null && column.max !== null && column.min > column.max) {
    return { code: 'INVALID_COLUMN', field, message: `min (${column.min}) is greater than max (${column.max})` };
  }
  if (TEXTUAL.has(column.type) && [column.min, column.max].some((bound) => bound !== null && (!Number.isInteger(bound) || bound < 0))) {
    return { code: 'INVALID_COLUMN', field, message: 'length bounds must be whole numbers of at least 0' };
  }
  return null;
}

function checkAllowedValues(column: ColumnSpec, path: string[]): InputProblem[] {
  if (column.values === null) return [];
  const field = [...path, 'values'];
  const problems: InputProblem[] = [];
  if (column.values.length === 0 || column.values.length > MAX_ALLOWED_VALUES) {
    problems.push({ code: 'INVALID_COLUMN', field, message: `values, when given, must list 1 to ${MAX_ALLOWED_VALUES} allowed values` });
  }
  const invalid = column.values.find((value) => isBlank(value) || toColumnValue(column.type, value) === MISMATCH);
  if (invalid !== undefined) problems.push({ code: 'INVALID_COLUMN', field, message: `allowed value "${invalid}" is not a valid ${column.type}` });
  return problems;
}

function checkAliases(column: ColumnSpec, path: string[]): InputProblem[] {
  if (column.aliases === null) return [];
  if (column.aliases.length > MAX_ALIASES) {
    return [{ code: 'INVALID_COLUMN', field: [...path, 'aliases'], message: `a column may have at most ${MAX_ALIASES} aliases` }];
  }
  return column.aliases.flatMap((alias, i) => checkName(alias, 'alias', [...path, 'aliases', String(i)]) ?? []);
}

function checkFormat(column: ColumnSpec, path: string[]): InputProblem | null {
  if (column.format === null) return null;
  try {
    compileDateLayout(column.format, column.type);
    return null;
  } catch (error) {
    return { code: 'INVALID_FORMAT', field: [...path, 'format'], message: (error as Error).message };
  }
}

/** Header names must say which column they mean: no name or alias may name two columns (in any case, as headers are matched). */
function checkNamesApart(columns: readonly ColumnSpec[], basePath: string[]): InputProblem[] {
  const owners = new Map<string, { index: number; alias: boolean }>();
  const problems: InputProblem[] = [];
  columns.forEach((column, index) => {
    const path = [...basePath, String(index)];
    [column.name, ...(column.aliases ?? [])].forEach((name, k) => {
      const owner = owners.get(headerKey(name));
      if (owner === undefined) owners.set(headerKey(name), { index, alias: k > 0 });
      else if (owner.index !== index) problems.push(nameClash(columns[owner.index].name, owner.alias, column.name, name, k === 0 ? [...path, 'name'] : [...path, 'aliases', String(k - 1)]));
    });
  });
  return problems;
}

function nameClash(earlier: string, earlierByAlias: boolean, column: string, name: string, field: string[]): InputProblem {
  if (!earlierByAlias && name === column) return { code: 'DUPLICATE_COLUMN', field, message: `column "${column}" is defined twice` };
  const what = name === column ? `the name of column "${column}"` : `alias "${name}" of column "${column}"`;
  return { code: 'DUPLICATE_ALIAS', field, message: `${what} also names column "${earlier}"${earlierByAlias ? ' (as an alias)' : ''}` };
}

/** What a dataset keeps of the columns it is declared (or inferred) with: all of them, rules included. */
export function datasetShape(columns: readonly ColumnSpec[]): DatasetColumn[] {
  return columns.map((column) => ({ ...column }));
}

/** Why a job's columns do not fit a dataset's, or null when they do (same names, types and order). */
export function shapeMismatch(dataset: readonly DatasetColumn[], job: readonly DatasetColumn[]): string | null {
  const describe = (columns: readonly DatasetColumn[]) => columns.map((c) => `${c.name} ${c.type}`).join(', ');
  const same = dataset.length === job.length && dataset.every((c, i) => c.name === job[i].name && c.type === job[i].type);
  return same ? null : `the dataset has columns (${describe(dataset)}), the job has (${describe(job)})`;
}

/** A dataset's columns as full specs, for jobs that give no columns: the rules it keeps, none where it keeps none. */
export function specsOf(columns: readonly DatasetColumn[]): ColumnSpec[] {
  return columns.map((c) => ({
    ...c,
    unique: c.unique ?? false,
    pattern: c.pattern ?? null,
    min: c.min ?? null,
    max: c.max ?? null,
    values: c.values ?? null,
    aliases: c.aliases ?? null,
    format: c.format ?? null,
  }));
}
