import type { CellValue } from '../datasets/column-types';
import type { ColumnSpec } from '../datasets/columns';
import type { Issue } from '../jobs/model';
import { compileDateLayout, type DateLayout } from './date-layout';
import { compileUserPattern, type UserPattern } from './pattern';
import { IngestError } from './ingest-error';
import { cellText, isBlank, MISMATCH, type RawCell, readsAsEmpty, toColumnValue } from './values';

/**
 * A column's pattern, compiled. Submission refuses what the engine cannot run, but a job queued
 * before the engine changed may carry such a pattern: that job fails typed, not as a crash.
 */
function runnablePattern(column: string, pattern: string): UserPattern {
  try {
    return compileUserPattern(pattern);
  } catch (error) {
    throw new IngestError('INVALID_PATTERN', `the pattern of column "${column}" cannot be run: ${(error as Error).message}; the dataset is unchanged`);
  }
}

/** A column's date layout, compiled; like a pattern, one that cannot be compiled fails its job typed. */
function runnableLayout(spec: ColumnSpec): DateLayout | null {
  if (spec.format === null) return null;
  try {
    return compileDateLayout(spec.format, spec.type);
  } catch (error) {
    throw new IngestError('INVALID_FORMAT', `the format of column "${spec.name}" cannot be used: ${(error as Error).message}; the dataset is unchanged`);
  }
}

/** The values already taken in UNIQUE columns, by the dataset or by earlier rows of the job. */
export interface UniquenessCheck {
  isTaken(columnIndex: number, value: CellValue): boolean;
  claim(columnIndex: number, value: CellValue): void;
}

/** Where an issue of a row comes from: the row's number and its problems so far (the first `maxIssuesPerRow` are described). */
interface RowIssues {
  row: number;
  issues: Issue[];
  problems: number;
}

const MAX_SHOWN_LENGTH = 200;

/** Text cut to a length fit for an issue: issues repeat per row, so neither a cell nor a rule is copied whole. */
function shorten(text: string): string {
  return text.length > MAX_SHOWN_LENGTH ? `${text.slice(0, MAX_SHOWN_LENGTH)}…` : text;
}

function shown(cell: RawCell): string {
  return shorten(cellText(cell));
}

function lengthOf(value: string): number {
  let count = 0;
  for (const _ of value) count++; // code points, so that "é" or an emoji counts as one
  return count;
}

interface CompiledColumn {
  spec: ColumnSpec;
  index: number;
  pattern: UserPattern | null;
  layout: DateLayout | null;
  allowed: Set<CellValue | typeof MISMATCH> | null;
  textual: boolean;
}

function compile(spec: ColumnSpec, index: number): CompiledColumn {
  return {
    spec,
    index,
    pattern: spec.pattern === null ? null : runnablePattern(spec.name, spec.pattern),
    layout: runnableLayout(spec),
    // Allowed values compare as stored values, so that "true" matches "TRUE" and "1.50" matches "1.5".
    allowed: spec.values === null ? null : new Set(spec.values.map((v) => toColumnValue(spec.type, v))),
    textual: spec.type === 'STRING' || spec.type === 'EMAIL',
  };
}

/**
 * Checks rows against a job's columns and turns valid ones into stored values. UNIQUE rules are
 * checked apart, last (`checkUnique`), so that the values they need can be fetched for many rows at once.
 */
export class RowValidator {
  private readonly columns: CompiledColumn[];
  private readonly uniqueColumns: CompiledColumn[];

  constructor(
    specs: readonly ColumnSpec[],
    /** Issues described per row; the rest are only counted, so that a row of a thousand blank required cells holds few objects. */
    private readonly maxIssuesPerRow: number,
    /** Cell texts (trimmed) that are read as empty, besides blank cells; null: none. */
    private readonly nullValues: ReadonlySet<string> | null = null,
  ) {
    this.columns = specs.map(compile);
    this.uniqueColumns = this.columns.filter((column) => column.spec.unique);
  }

  /** The indexes of the UNIQUE columns. */
  get uniqueIndexes(): number[] {
    return this.uniqueColumns.map((column) => column.index);
  }

  private problem(found: RowIssues, column: CompiledColumn, code: string, message: string, cell: RawCell): void {
    if (found.problems++ < this.maxIssuesPerRow) {
      found.issues.push({ severity: 'ERROR', code, message, row: found.row, column: column.spec.name, value: isBlank(cell) ? null : shown(cell) });
    }
  }

  /**
   * Validates one row given in column order against every rule but UNIQUE. Fills `out` with stored
   * values and returns 0, or returns how many problems the row has, of which the first
   * `maxIssuesPerRow` are appended to `issues` (errors all).
   */
  validate(cells: readonly RawCell[], row: number, out: CellValue[], issues: Issue[]): number {
    const found: RowIssues = { row, issues, problems: 0 };
    for (const column of this.columns) {
      const cell = cells[column.index];
      const { spec } = column;
      if (readsAsEmpty(cell, this.nullValues)) {
        if (spec.required) this.problem(found, column, 'REQUIRED', `${spec.name} is required`, cell);
        out[column.index] = null;
        continue;
      }
      const value = toColumnValue(spec.type, cell as Exclude<RawCell, null | undefined>, column.layout);
      if (value === MISMATCH) {
        this.problem(found, column, 'TYPE_MISMATCH', mismatchMessage(column), cell);
        continue;
      }
      out[column.index] = value;
      const broken = this.brokenRule(column, value);
      if (broken) this.problem(found, column, broken.code, broken.message, cell);
    }
    return found.problems;
  }

  /** The first rule beyond the type that a stored value breaks (allowed values, pattern, range), or null. */
  private brokenRule(column: CompiledColumn, value: CellValue): { code: string; message: string } | null {
    const { spec } = column;
    if (column.allowed && !column.allowed.has(value)) return { code: 'ENUM', message: shorten(`${spec.name} must be one of: ${spec.values!.join(', ')}`) };
    if (column.pattern && !column.pattern.test(value as string)) return { code: 'PATTERN', message: shorten(`${spec.name} must match ${spec.pattern}`) };
    if (spec.min === null && spec.max === null) return null;
    const measure = column.textual ? lengthOf(value as string) : (value as number);
    if ((spec.min !== null && measure < spec.min) || (spec.max !== null && measure > spec.max)) {
      return { code: 'RANGE', message: `${column.textual ? `${spec.name} length` : spec.name} must be ${bounds(spec.min, spec.max)}` };
    }
    return null;
  }

  /**
   * Checks a row that passed `validate` against its UNIQUE rules, and claims its values when it
   * passes them too (so that a rejected row does not take a value away from a later valid one).
   * Returns how many problems it found, described as `validate` describes them.
   */
  checkUnique(cells: readonly RawCell[], row: number, out: readonly CellValue[], issues: Issue[], uniqueness: UniquenessCheck): number {
    const found: RowIssues = { row, issues, problems: 0 };
    for (const column of this.uniqueColumns) {
      if (out[column.index] !== null && uniqueness.isTaken(column.index, out[column.index])) {
        this.problem(found, column, 'UNIQUE', `${column.spec.name} must be unique; this value is already taken`, cells[column.index]);
      }
    }
    if (found.problems > 0) return found.problems;
    for (const column of this.uniqueColumns) {
      if (out[column.index] !== null) uniqueness.claim(column.index, out[column.index]);
    }
    return 0;
  }
}

function mismatchMessage({ spec, layout }: CompiledColumn): string {
  const expected = `${spec.name} must be ${article(spec.type)} ${spec.type}`;
  return layout ? `${expected} in the layout ${layout.text}` : expected;
}

function article(type: string): string {
  return /^[AEIOU]/.test(type) ? 'an' : 'a';
}

function bounds(min: number | null, max: number | null): string {
  if (min !== null && max !== null) return `between ${min} and ${max}`;
  return min !== null ? `at least ${min}` : `at most ${max}`;
}
