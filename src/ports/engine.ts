import type { BlobStore } from './blob-store';
import type { Coordination } from './coordination';
import type { DatasetStore } from './dataset-store';
import type { EventBus } from './event-bus';
import type { JobStore } from './job-store';
import type { ApiKeyStore } from './key-store';
import type { Attempt, RowSink } from './row-sink';
import type { WebhookStore } from './webhook-store';

/** What a worker thread needs to open an engine on a connection of its own: plain data, sent to the thread. */
export interface WorkerEngineSpec {
  engine: string;
}

/** One engine's adapters of every port, as the main thread uses them; `open` before any other use. */
export interface Engine {
  readonly name: string;
  /** Readies the storage: brings its schema to this version (refusing a newer one), opens connections. */
  open(): Promise<void>;
  readonly jobs: JobStore;
  readonly datasets: DatasetStore;
  readonly webhooks: WebhookStore;
  readonly keys: ApiKeyStore;
  readonly blobs: BlobStore;
  readonly events: EventBus;
  readonly coordination: Coordination;
  readonly workerSpec: WorkerEngineSpec;
  close(): Promise<void>;
}

/** The engine as an ingest worker thread uses it: a row sink per attempt. */
export interface WorkerEngine {
  openSink(attempt: Attempt): Promise<RowSink>;
  close(): Promise<void>;
}
