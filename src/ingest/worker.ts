import { parentPort, workerData } from 'node:worker_threads';
import { openWorkerEngine } from '../engines';
import type { WorkerEngine } from '../ports/engine';
import { LeaseLostError, StorageFault } from '../ports/errors';
import type { RowSink } from '../ports/row-sink';
import { IngestError } from './ingest-error';
import { runIngest } from './pipeline';
import { isStorageFault, storageError } from './storage-fault';
import { runInBackground } from './thread-priority';
import type { WorkerCommand, WorkerData, WorkerReport } from './worker-protocol';

// Entry of the worker thread that runs one ingest job off the main event loop.
const port = parentPort!;
runInBackground();
const { task, engine: engineSpec, aliveIntervalMs } = workerData as WorkerData;
let stop: 'cancel' | 'pause' | null = null;
port.on('message', (command: WorkerCommand) => {
  if (stop !== 'cancel') stop = command.type; // a cancel is never downgraded to a pause
});
const report = (message: WorkerReport) => port.postMessage(message);
const failed = (error: IngestError): Extract<WorkerReport, { type: 'failed' }> => ({ type: 'failed', error: { code: error.code, message: error.message } });

// Ticks only while this thread's event loop turns: a worker stuck in one long computation goes quiet.
const alive = setInterval(() => report({ type: 'alive' }), aliveIntervalMs);
let engine: WorkerEngine | null = null;
let sink: RowSink | null = null;
try {
  engine = openWorkerEngine(engineSpec);
  sink = await engine.openSink({ jobNum: task.jobNum, datasetId: task.datasetId, leaseToken: task.leaseToken, leaseMs: task.leaseMs });
  const outcome = await runIngest(sink, task, { committed: () => report({ type: 'progress' }), stopRequested: () => stop });
  report({ type: outcome });
} catch (error) {
  if (error instanceof LeaseLostError) report({ type: 'lost' });
  else if (error instanceof IngestError) report(failed(error));
  else if (error instanceof StorageFault && error.connectionLost) report({ type: 'disconnected', detail: error.message });
  else if (isStorageFault(error)) report({ ...failed(storageError(error)), detail: (error as Error).message });
  else report({ type: 'crashed', message: (error as Error).stack ?? String(error) });
} finally {
  clearInterval(alive);
  await sink?.close();
  await engine?.close();
  port.close();
}
