import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../storage/sqlite';
import { type IngestTask, runIngest } from './pipeline';
import { IngestError } from './source';
import type { WorkerCommand, WorkerData, WorkerReport } from './worker-protocol';

// Entry of the worker thread that runs one ingest job off the main event loop.
const port = parentPort!;
const { task, dbPath, busyTimeoutMs, aliveIntervalMs } = workerData as WorkerData;
let cancelled = false;
port.on('message', (command: WorkerCommand) => {
  if (command.type === 'cancel') cancelled = true;
});
const report = (message: WorkerReport) => port.postMessage(message);

// Ticks only while this thread's event loop turns: a worker stuck in one long computation goes quiet.
const alive = setInterval(() => report({ type: 'alive' }), aliveIntervalMs);
const db = openDatabase(dbPath, { busyTimeoutMs, migrate: false });
try {
  const outcome = await runIngest(db, task as IngestTask, { committed: () => report({ type: 'progress' }), isCancelled: () => cancelled });
  report({ type: outcome });
} catch (error) {
  if (error instanceof IngestError) report({ type: 'failed', error: { code: error.code, message: error.message } });
  else report({ type: 'crashed', message: (error as Error).stack ?? String(error) });
} finally {
  clearInterval(alive);
  db.close();
  port.close();
}
