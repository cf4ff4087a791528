import type { IssueLimits } from '../config';
import type { Issue, RejectedRow } from '../jobs/model';
import { cellText, type RawCell } from './values';

/** How much of the rejected-rows file a job has stored so far (in its checkpoint, so that a resumed attempt keeps the bounds). */
export interface RejectsStored {
  rows: number;
  bytes: number;
}

/** Issues of a row as one text a person can read next to its cells. */
function errorsText(issues: readonly Issue[], problems: number): string {
  const text = issues.map((issue) => issue.message).join('; ');
  const untold = problems - issues.length;
  return untold > 0 ? `${text}; and ${untold} more` : text;
}

/**
 * The rejected rows a job keeps for its rejected-rows file: each with its cells as the file had
 * them, so that people can fix them and upload them again. Bounded per job in rows and in bytes
 * (a file of huge bad rows must not fill the store); past the bounds rows are only counted. The
 * file's header is kept as row 0, with the first row kept.
 */
export class RejectedRowKeeper {
  private pending: RejectedRow[] = [];
  private header: string[] = [];
  /** What is kept, committed or not: the bounds count both, and a commit's checkpoint records it with the rows it writes. */
  readonly kept: RejectsStored;

  constructor(
    private readonly limits: Pick<IssueLimits, 'rejectedRows' | 'rejectedBytes'>,
    stored: RejectsStored | undefined,
  ) {
    this.kept = { ...(stored ?? { rows: 0, bytes: 0 }) };
  }

  /** The file's header names (or the columns', for a file without a header), written before the first row kept. */
  setHeader(names: readonly RawCell[]): void {
    this.header = names.map(cellText);
  }

  /** Keeps a rejected record while the bounds allow; returns the bytes kept, for the batch's size. */
  keep(row: number, cells: readonly RawCell[], issues: readonly Issue[], problems: number): number {
    // Past the row bound nothing is kept: a file of millions of bad rows converts none of their cells.
    if (this.kept.rows >= this.limits.rejectedRows) return 0;
    const texts = cells.map(cellText);
    // A byte for each cell's separator: a row of empty cells costs something too.
    const bytes = texts.reduce((sum, cell) => sum + cell.length + 1, 0);
    if (this.kept.bytes + bytes > this.limits.rejectedBytes) return 0;
    if (this.kept.rows === 0) this.pending.push({ row: 0, errors: '', cells: this.header });
    this.pending.push({ row, errors: errorsText(issues, problems), cells: texts });
    this.kept.rows++;
    this.kept.bytes += bytes;
    return bytes;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** The rows kept since the last commit, for the commit to write. */
  take(): RejectedRow[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }
}
