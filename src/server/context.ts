import type { Config } from '../config';
import type { SqliteDatasetStore } from '../datasets/sqlite-dataset-store';
import type { EventBus } from '../events/bus';
import type { IngestSubmission } from '../ingest/submission';
import type { JobRegistry } from '../jobs/registry';
import type { JobRunner } from '../jobs/runner';
import type { JobStore } from '../jobs/store';
import type { DestinationPolicy } from '../webhooks/destination';
import type { WebhookDispatcher } from '../webhooks/dispatcher';
import type { SqliteWebhookStore } from '../webhooks/sqlite-webhook-store';
import type { WorkspaceQuota } from '../workspaces/limits';
import type { Draining } from './draining';

/** What resolvers may use. Reads go to the stores; every change of a job goes through the registry. */
export interface Services {
  config: Config;
  jobs: JobStore;
  datasets: SqliteDatasetStore;
  bus: EventBus;
  registry: JobRegistry;
  runner: JobRunner;
  submission: IngestSubmission;
  webhooks: SqliteWebhookStore;
  /** Where webhooks may go. */
  destinations: DestinationPolicy;
  dispatcher: WebhookDispatcher;
  draining: Draining;
  /** Per-workspace limits, checked in the transaction that creates a job or webhook endpoint. */
  quota: WorkspaceQuota;
}

export interface GraphQLContext {
  /** The caller's workspace, from its API key. */
  workspace: string;
  services: Services;
}

