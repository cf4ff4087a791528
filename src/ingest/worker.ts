import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../storage/sqlite';
import { type IngestTask, runIngest } from './pipeline';
import { IngestError } from './source';
import type { WorkerCommand, WorkerData, WorkerReport } from './worker-protocol';

// Entry of the worker thread that runs one ingest job off the main event loop.
const port = parentPort!;
const { task, dbPath, busyTimeoutMs } = workerData as WorkerData;
let cancelled = false;
port.on('message', (command: WorkerCommand) => {
  if (command.type === 'cancel') cancelled = true;
});
const report = (message: WorkerReport) => port.postMessage(message);

const db = openDatabase(dbPath, { busyTimeoutMs, migrate: false });
try {
  const outcome = await runIngest(db, task as IngestTask, { committed: () => report({ type: 'progress' }), isCancelled: () => cancelled });
  report({ type: outcome });
} catch (error) {
  if (error instanceof IngestError) report({ type: 'failed', error: { code: error.code, message: error.message } });
  else report({ type: 'crashed', message: (error as Error).stack ?? String(error) });
} finally {
  db.close();
  port.close();
}
