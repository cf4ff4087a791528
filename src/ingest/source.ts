import type { RawCell } from './values';

/** One record of a file, in file order. Row 0 is the header row when the file has one. */
export type SourceItem =
  | { kind: 'row'; row: number; cells: RawCell[] }
  | { kind: 'malformed'; row: number; message: string };

/** A parsed file: its records, how far into the file reading has got, and what was detected on the way. */
export interface RowSource {
  /** Records in file order, a burst at a time (whatever the parser had ready). */
  items(): AsyncIterable<SourceItem[]>;
  bytesRead(): number;
  /** Facts about the file for the job's messages (format, delimiter, encoding, sheet…). */
  readonly messages: Record<string, string>;
}

/** A failure that ends the job with a code a caller can act on. */
export class IngestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
