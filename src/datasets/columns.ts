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
/** Allowed values of one column, and the length of a pattern: rules, not data. */
export const MAX_ALLOWED_VALUES = 1000;
export const MAX_PATTERN_LENGTH = 1000;

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
  const seen = new Set<string>();
  columns.forEach((column, index) => {
    const path = [...basePath, String(index)];
    const nameProblem = checkName(column.name, 'column name', [...path, 'name']);
    if (nameProblem) problems.push(nameProblem);
    const key = column.name.toLowerCase();
    if (seen.has(key)) {
      problems.push({ code: 'DUPLICATE_COLUMN', field: [...path, 'name'], message: `column "${column.name}" is defined twice` });
    }
    seen.add(key);
    if (column.pattern !== null) {
      if (column.pattern.length > MAX_PATTERN_LENGTH) {
        problems.push({ code: 'INVALID_PATTERN', field: [...path, 'pattern'], message: `pattern must be at most ${MAX_PATTERN_LENGTH} characters` });
      } else if (!TEXTUAL.has(column.type)) {
        problems.push({ code: 'INVALID_COLUMN', field: [...path, 'pattern'], message: `pattern applies to STRING and EMAIL columns, not ${column.type}` });
      } else {
        try {
          compileUserPattern(column.pattern);
        } catch (error) {
          problems.push({ code: 'INVALID_PATTERN', field: [...path, 'pattern'], message: `invalid regular expression: ${(error as Error).message}` });
        }
      }
    }
    if (column.min !== null || column.max !== null) {
      if (!NUMERIC.has(column.type) && !TEXTUAL.has(column.type)) {
        problems.push({ code: 'INVALID_COLUMN', field: [...path, 'min'], message: `min and max apply to INTEGER, DECIMAL, STRING and EMAIL columns, not ${column.type}` });
      } else if (column.min !== null && column.max !== null && column.min > column.max) {
        problems.push({ code: 'INVALID_COLUMN', field: [...path, 'min'], message: `min (${column.min}) is greater than max (${column.max})` });
      } else if (TEXTUAL.has(column.type) && [column.min, column.max].some((bound) => bound !== null && (!Number.isInteger(bound) || bound < 0))) {
        problems.push({ code: 'INVALID_COLUMN', field: [...path, 'min'], message: 'length bounds must be whole numbers of at least 0' });
      }
    }
    if (column.values !== null && (column.values.length === 0 || column.values.length > MAX_ALLOWED_VALUES)) {
      problems.push({ code: 'INVALID_COLUMN', field: [...path, 'values'], message: `values, when given, must list 1 to ${MAX_ALLOWED_VALUES} allowed values` });
    }
    const invalid = column.values?.find((value) => isBlank(value) || toColumnValue(column.type, value) === MISMATCH);
    if (invalid !== undefined) {
      problems.push({ code: 'INVALID_COLUMN', field: [...path, 'values'], message: `allowed value "${invalid}" is not a valid ${column.type}` });
    }
  });
  return problems;
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
  return columns.map((c) => ({ ...c, unique: c.unique ?? false, pattern: c.pattern ?? null, min: c.min ?? null, max: c.max ?? null, values: c.values ?? null }));
}
