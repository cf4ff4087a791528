import type { RejectedRowsFiles } from './rejected-rows';
import type { Config } from '../config';
import type { Feeds } from '../events/feeds';
import type { IngestSubmission } from '../ingest/submission';
import type { JobCanceller } from '../jobs/cancellation';
import type { JobRegistry } from '../jobs/registry';
import type { JobRunner } from '../jobs/runner';
import type { DatasetStore } from '../ports/dataset-store';
import type { JobStore } from '../ports/job-store';
import type { WebhookStore } from '../ports/webhook-store';
import type { DestinationPolicy } from '../webhooks/destination';
import type { WebhookDispatcher } from '../webhooks/dispatcher';
import type { Draining } from './draining';

/** What resolvers may use. Reads go to the stores; every change of a job goes through the registry. */
export interface Services {
  config: Config;
  jobs: JobStore;
  datasets: DatasetStore;
  /** Subscription feeds on the event bus. */
  feeds: Feeds;
  registry: JobRegistry;
  runner: JobRunner;
  canceller: JobCanceller;
  submission: IngestSubmission;
  webhooks: WebhookStore;
  /** Where webhooks may go. */
  destinations: DestinationPolicy;
  dispatcher: WebhookDispatcher;
  draining: Draining;
  /** Ended jobs' rejected-rows files, behind signed links. */
  rejectedRows: RejectedRowsFiles;
}

export interface GraphQLContext {
  /** The caller's workspace, from its API key. */
  workspace: string;
  services: Services;
  /** Where clients reach this server: the origin of the links it mints for them. */
  origin: string;
}
