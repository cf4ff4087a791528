import { parentPort, workerData } from 'node:worker_threads';
import { openWorkerEngine } from '../engines';
import type { WorkerEngine } from '../ports/engine';
import { LeaseLostError, StorageFault } from '../ports/errors';
import type { RowSink } from '../ports/row-sink';
import { IngestError } from './ingest-error';
import { runIngest } from './pipeline';
import { isStorageFault, storageError } from './storage-fault';
import type { IngestTask } from './task';
import { runInBackground } from './thread-priority';
import type { StopCommand, ThreadMessage, WorkerCommand, WorkerData, WorkerReport } from './worker-protocol';

// Entry of an ingest thread of the pool: runs the attempts the main thread sends it, one at a time,
// off the main event loop. It starts with the server, so a job pays no thread start nor module loading.
const port = parentPort!;
runInBackground();
const { engine: engineSpec, aliveIntervalMs } = workerData as WorkerData;
/** An attempt running here, by its lease token, and the stop asked of it. */
interface AttemptHere {
  attempt: string;
  stop: StopCommand | null;
}
let current: AttemptHere | null = null;
const report = (message: ThreadMessage) => port.postMessage(message);

port.on('message', (command: WorkerCommand) => {
  if (command.type === 'run') void run(command.task);
  // A cancel is never downgraded to a pause; a stop meant for an attempt that already ended here is dropped.
  else if (current?.attempt === command.attempt && current.stop !== 'cancel') current.stop = command.type;
});
report({ type: 'ready' });

/** The report of an attempt that threw. */
function failureReport(error: unknown): WorkerReport {
  if (error instanceof LeaseLostError) return { type: 'lost' };
  if (error instanceof IngestError) return { type: 'failed', error: { code: error.code, message: error.message } };
  if (error instanceof StorageFault && error.connectionLost) return { type: 'disconnected', detail: error.message };
  if (isStorageFault(error)) {
    const { code, message } = storageError(error);
    return { type: 'failed', error: { code, message }, detail: (error as Error).message };
  }
  return { type: 'crashed', message: (error as Error).stack ?? String(error) };
}

/**
 * One attempt, on an engine opened for it alone and closed before the thread takes the next job:
 * nothing of this attempt (its connection, the temporary tables of its UNIQUE checks) can reach the next.
 */
async function run(task: IngestTask): Promise<void> {
  const attempt: AttemptHere = { attempt: task.leaseToken, stop: null };
  current = attempt;
  // Ticks only while this thread's event loop turns: a thread stuck in one long computation goes quiet.
  const alive = setInterval(() => report({ type: 'alive' }), aliveIntervalMs);
  let engine: WorkerEngine | null = null;
  let sink: RowSink | null = null;
  try {
    engine = openWorkerEngine(engineSpec);
    sink = await engine.openSink({ jobNum: task.jobNum, datasetId: task.datasetId, leaseToken: task.leaseToken, leaseMs: task.leaseMs });
    report({ type: await runIngest(sink, task, { committed: () => report({ type: 'progress' }), stopRequested: () => attempt.stop }) });
  } catch (error) {
    report(failureReport(error));
  } finally {
    clearInterval(alive);
    current = null;
  }
  try {
    await sink?.close();
    await engine?.close();
  } catch {
    process.exit(1); // a thread that cannot close what an attempt opened takes no other job: the pool starts a fresh one
  }
  report({ type: 'idle' });
}
