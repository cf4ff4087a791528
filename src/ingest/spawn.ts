import { Worker } from 'node:worker_threads';
import type { WorkerData } from './worker-protocol';

const entry = new URL('./worker-entry.mjs', import.meta.url);

export function spawnIngestWorker(data: WorkerData): Worker {
  return new Worker(entry, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 } });
}
