import type { RowSink } from '../ports/row-sink';
import { isIntact } from '../uploads/receive';
import { Batch } from './batch';
import { IngestError } from './ingest-error';
import { IngestRun } from './ingest-run';
import { openSource, type SourceSpec } from './open-source';
import type { RowSource } from './source';
import type { IngestControl, IngestOutcome, IngestTask } from './task';
import { threadedSource } from './threaded-source';

/** From this size on, a file is parsed in a thread of its own (starting one costs about 0.3 s of a core); XLSX packs more rows per byte. */
const READER_THREAD_MIN_BYTES = { CSV: 8 * 1024 ** 2, XLSX: 1024 ** 2 };

/** Opens the file's parser, in a thread of its own when the file is large enough for two cores to pay off. */
async function open(task: IngestTask): Promise<RowSource> {
  const spec: SourceSpec = { path: task.path, format: task.format, csv: task.options.csv, sheet: task.options.sheet, limits: task.limits, skipRows: task.options.skipRows };
  return task.file.size >= READER_THREAD_MIN_BYTES[task.format] ? threadedSource(spec) : openSource(spec);
}

/**
 * Streams one job's file into its dataset through the attempt's sink: parse, validate, write in
 * batches. Each batch's rows, issues, progress counters and checkpoint are committed in one fenced
 * step; the rows stay hidden until the registry commits the job as COMPLETED. A resumed attempt
 * reads on from its checkpoint, so every row is written once whatever the crash point.
 */
export async function runIngest(sink: RowSink, task: IngestTask, control: IngestControl): Promise<IngestOutcome> {
  const resumed = task.resume?.checkpoint ?? null;
  // A verdict already committed needs no file: the attempt that reached it was only cut off before recording the end.
  if (resumed?.failure) throw new IngestError(resumed.failure.code, resumed.failure.message);
  if (!(await isIntact(task.path, task.file.size, task.file.sha256))) {
    throw new IngestError('STORAGE_ERROR', 'the spooled upload is corrupt or truncated (it no longer matches the sha256 of the upload); the dataset is unchanged');
  }
  const batch = new Batch(sink, task.batchRows, task.progressIntervalMs, task.limits.issues, task.resume);
  return new IngestRun(task, sink, await open(task), batch, control).run();
}
