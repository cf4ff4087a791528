import type { CellValue } from '../datasets/column-types';
import type { DatasetColumn } from '../datasets/columns';
import type { Dataset } from '../datasets/model';
import type { Checkpoint, Issue, ProgressCounters, RejectedRow } from '../jobs/model';

/** The attempt a sink writes for: its job and dataset, the lease that fences every write, and how long each commit extends it. */
export interface Attempt {
  jobNum: number;
  datasetId: number;
  leaseToken: string;
  leaseMs: number;
}

export interface ProgressUpdate {
  counters: ProgressCounters;
  checkpoint?: Checkpoint;
  stage?: string;
  messages?: Record<string, string>;
}

/**
 * One batch of an attempt: its accepted rows (stored values as the validator makes them, in the
 * dataset's column order: BOOLEAN as 1 or 0, DATE and DATETIME as ISO text), its issues and where
 * the job stands after it.
 */
export interface BatchCommit {
  rows: readonly CellValue[][];
  issues: readonly Issue[];
  /** The index of the first of `issues` among the job's stored issues. */
  firstIssueIndex: number;
  /** Rejected rows kept for the job's rejected-rows file (row 0: the file's header, with the first of them). */
  rejectedRows: readonly RejectedRow[];
  progress: ProgressUpdate;
}

/** What a burst's keys find, by `keyText` of the key: in the job's own rows, and in the visible rows (each row's values, in column order). */
export interface KeyedRows {
  own: Set<string>;
  visible: Map<string, CellValue[]>;
}

/**
 * Where one attempt of a job writes: an attempt opens its own sink (in the thread that runs it) and
 * closes it when it ends. Every write is one atomic step fenced by the attempt's lease: an attempt
 * that no longer holds it writes nothing and gets LeaseLostError.
 */
export interface RowSink {
  /** The dataset as it is now. */
  dataset(): Promise<Dataset>;
  /**
   * Settles the dataset's columns and begins the job's rows, in one fenced step: sets `shape` as the
   * dataset's columns when it has none yet (inferred by this job), else fails with SCHEMA_MISMATCH
   * (an IngestError) unless the dataset has that shape; then opens the job's hidden rows (a resumed
   * attempt continues those of its earlier attempts).
   */
  settle(shape: readonly DatasetColumn[]): Promise<void>;
  /**
   * Readies the UNIQUE checks of these columns, before the first row: values the job must not repeat
   * are those of its own committed rows and, unless it replaces them (`replace`), the dataset's visible rows.
   */
  prepareUnique(columnIndexes: readonly number[], replace: boolean): Promise<void>;
  /** Which of `values` a UNIQUE column (one of those prepared) already holds in scope: fetched once per burst of rows. */
  taken(columnIndex: number, values: readonly CellValue[]): Promise<Set<CellValue>>;
  /**
   * Readies lookups by the dataset's key (its key columns' indexes), before the first row: in the
   * job's own committed rows and, with `visible` (APPEND, UPSERT), in the dataset's visible rows.
   */
  prepareKey(columnIndexes: readonly number[], visible: boolean): Promise<void>;
  /** For these keys (each the key columns' values, as stored), those the job's own rows hold, and the visible rows holding the others: fetched once per burst. */
  keyed(keys: readonly CellValue[][]): Promise<KeyedRows>;
  /** Writes a batch's rows and issues, the counters and the checkpoint, and extends the lease, in one fenced step. */
  commit(batch: BatchCommit): Promise<void>;
  close(): Promise<void>;
}
