import type { CellValue } from './column-types';
import type { ColumnSpec, DatasetColumn, InputProblem } from './columns';

/**
 * A dataset's key: the columns whose values together identify a row, marked `key` on its columns
 * (in column order). It is part of the dataset's shape, declared by the job that gives the dataset
 * its columns: no two visible rows share a key, and UPSERT finds the row a file's row replaces by it.
 */

export const MAX_KEY_COLUMNS = 8;

export function keyIndexes(columns: readonly DatasetColumn[]): number[] {
  return columns.flatMap((column, i) => (column.key ? [i] : []));
}

export function keyNames(columns: readonly DatasetColumn[]): string[] {
  return columns.filter((column) => column.key).map((column) => column.name);
}

/** The columns with `key` marked on those it names (a key column is required: a row without its key could not be found again). */
export function withKey<T extends DatasetColumn>(columns: readonly T[], key: readonly string[]): T[] {
  const named = new Set(key);
  return columns.map((column) => (named.has(column.name) ? { ...column, key: true, required: true } : { ...column, key: undefined }));
}

/** The key's names that name no column. */
export function unknownKeyNames(columns: readonly Pick<ColumnSpec, 'name'>[], key: readonly string[]): string[] {
  const names = new Set(columns.map((column) => column.name));
  return key.filter((name) => !names.has(name));
}

/** Why a job's key (marked on its columns) is not its dataset's, or null when it is. */
export function keyMismatch(dataset: readonly DatasetColumn[], job: readonly DatasetColumn[]): string | null {
  const [own, theirs] = [keyNames(dataset), keyNames(job)];
  if (own.join('\u0000') === theirs.join('\u0000')) return null;
  const has = own.length === 0 ? 'has no key (a key is declared by the job that gives a dataset its columns)' : `is keyed by (${own.join(', ')})`;
  return `the dataset ${has}; the job's key is (${theirs.join(', ')})`;
}

/** The key as given: 1 to MAX_KEY_COLUMNS distinct names; UPSERT needs one. */
export function checkKeyInput(key: readonly string[] | null, upsert: boolean, field: string[]): InputProblem[] {
  if (key === null) return upsert ? [{ code: 'KEY_REQUIRED', field, message: 'mode UPSERT needs a key: the columns that identify a row, e.g. key: ["id"]' }] : [];
  if (key.length === 0 || key.length > MAX_KEY_COLUMNS) return [{ code: 'INVALID_KEY', field, message: `key must name 1 to ${MAX_KEY_COLUMNS} columns` }];
  const twice = key.find((name, i) => key.indexOf(name) !== i);
  return twice === undefined ? [] : [{ code: 'INVALID_KEY', field, message: `key names column "${twice}" twice` }];
}

/** Why `key` cannot be a job's key on these columns (a dataset's when `dataset`, else the job's own), or null. */
export function keyProblem(columns: readonly DatasetColumn[], key: readonly string[], dataset: boolean): { code: string; message: string } | null {
  const unknown = unknownKeyNames(columns, key);
  if (unknown.length > 0) return { code: 'UNKNOWN_KEY_COLUMN', message: `key names no column: ${unknown.map((name) => `"${name}"`).join(', ')}` };
  const mismatch = dataset ? keyMismatch(columns, withKey(columns, key)) : null;
  return mismatch === null ? null : { code: 'KEY_MISMATCH', message: mismatch };
}

/** A row's key as one text, to compare keys of the file with those of stored rows (values as stored). */
export function keyText(row: readonly CellValue[], indexes: readonly number[]): string {
  return JSON.stringify(indexes.map((i) => row[i]));
}
