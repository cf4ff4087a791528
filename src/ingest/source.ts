import type { IssueLimits } from '../config';
import { IngestError } from './ingest-error';
import type { RawCell } from './values';
import type { ZipLimits } from './zip-directory';

/** One record of a file, in file order. Row 0 is the header row when the file has one. */
export type SourceItem =
  | { kind: 'row'; row: number; cells: RawCell[] }
  | { kind: 'malformed'; row: number; message: string };

/** Where reading can resume: the row number of the next record, and where it starts in the file when the source can seek. */
export interface SourcePosition {
  nextRow: number;
  byteOffset: number | null;
}

/** Records the parser had ready, and the position just after the last of them. */
export interface SourceBurst {
  items: SourceItem[];
  after: SourcePosition;
}

/** Where a fresh read starts: row 1 is the first data row (row 0 is the header, when there is one). */
export const START: SourcePosition = { nextRow: 1, byteOffset: null };

/** A parsed file: its records, how far into the file reading has got, and what was detected on the way. */
export interface RowSource {
  /**
   * Records in file order, a burst at a time (whatever the parser had ready). From a position, the
   * header (row 0) still comes first when the file has one, then the records from that position on.
   */
  items(from?: SourcePosition): AsyncIterable<SourceBurst>;
  bytesRead(): number;
  /** Facts about the file for the job's messages (format, delimiter, encoding, sheet…). */
  readonly messages: Record<string, string>;
}

/**
 * What a file may hold before its job fails: a CSV record's bytes, a row's cells, an XLSX file's zip
 * directory; and the issue details its job keeps, which also bound how many rows an XLSX burst holds.
 */
export interface FileLimits {
  maxRecordBytes: number;
  maxColumns: number;
  zip: ZipLimits;
  issues: IssueLimits;
}

/** Fails the job on a record wider than the limit: a file's width is bounded, not only its records' bytes. */
export function checkWidth(width: number, row: number, maxColumns: number): void {
  if (width > maxColumns) throw new IngestError('TOO_MANY_COLUMNS', `${row === 0 ? 'the header' : `row ${row}`} has ${width} columns; at most ${maxColumns} are supported`);
}
