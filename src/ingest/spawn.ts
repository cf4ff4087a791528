import { Worker } from 'node:worker_threads';
import type { WorkerData } from './worker-protocol';

const entry = new URL('./worker-entry.mjs', import.meta.url);

/** Heap limits of an ingest thread, in MB: they bound what one job can hold, since a thread runs one job at a time. */
const HEAP_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

export function spawnIngestThread(data: WorkerData): Worker {
  return new Worker(entry, { workerData: data, resourceLimits: HEAP_LIMITS });
}
