/** How a CSV file is read: its encoding and delimiter (the options', unless its head says otherwise), its quote, and where its records start. */
export interface CsvFormat {
  encoding: string;
  delimiter: string;
  quote: string;
  /** UTF-8: the parser's offsets are the file's, so a reader can resume by seeking. */
  seekable: boolean;
  /** The byte offset of the first record: past the skipped lines in a seekable file, else 0. */
  origin: number;
  /** Lines dropped from the decoded text before the parser: the skipped lines of a file that is not seekable, else 0. */
  dropLines: number;
}

/** What a parser is asked for: csv-parse's options as csvSource sets them, and where malformed records are reported. */
export interface ParserOptions {
  delimiter: string;
  quote: string;
  /** Drop a UTF-8 byte order mark at the start: the input starts the file. */
  bom: boolean;
  maxRecordBytes: number;
  /** A record skipped as malformed, after `afterRecords` emitted records. */
  onSkipped(afterRecords: number, message: string): void;
}

/** Records parsed so far, and the byte offset (in the parser's input) where the last of them ends. */
export interface RecordBurst {
  records: string[][];
  end: number;
}

/** A file to read records from: from byte `start`, each chunk's size reported to `onRead` as it is read. */
export interface RecordReading {
  path: string;
  start: number;
  format: CsvFormat;
  options: ParserOptions;
  onRead(bytes: number): void;
}

/**
 * Records from a CSV file, in bursts, with where the last of each burst ends (a resumable offset) and
 * the malformed records reported as they are met. Reading stops when the generator is returned.
 */
export interface RecordReader {
  readonly name: 'sluice' | 'csv-parse';
  read(reading: RecordReading): AsyncGenerator<RecordBurst>;
}

/**
 * How much of the file each read takes, for either reader: 64 KiB keeps each burst's text small
 * enough to be collected young (bigger strings are allocated straight into the old generation):
 * 25 MB less peak memory than 256 KiB reads, same speed.
 */
export const READ_CHUNK_BYTES = 64 * 1024;
