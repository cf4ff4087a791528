import type { AttemptOutcome, Delivery, WebhookEndpoint } from '../webhooks/model';

/**
 * Webhook state: the workspaces' signing secrets, their endpoints, and the delivery outbox (whose
 * rows the job store writes with the transitions they announce). Every method is one atomic step.
 */
export interface WebhookStore {
  /** The workspace's current signing secret, created on first use. */
  currentSecret(workspace: string): Promise<string>;
  /** The secrets to sign with now: the current one, and the previous one during a rotation's overlap. */
  signingSecrets(workspace: string, now: number): Promise<string[]>;
  /** Replaces the signing secret; the old one keeps signing too until `previousValidUntil`. */
  rotate(workspace: string, previousValidUntil: number): Promise<string>;
  /**
   * Registers an endpoint with a secret of its own. `admit` sees how many endpoints the workspace has,
   * inside the step, and throws to refuse one more (a workspace limit).
   */
  createEndpoint(workspace: string, url: string, events: readonly string[], now: number, admit: (endpoints: number) => void): Promise<{ endpoint: WebhookEndpoint; secret: string }>;
  endpoints(workspace: string): Promise<WebhookEndpoint[]>;
  /** The secret of an endpoint that may still receive events, or null when it was deleted or disabled. */
  activeEndpointSecret(id: string): Promise<string | null>;
  /** Deletes an endpoint of the workspace and stops its pending deliveries; false when there is none. */
  deleteEndpoint(workspace: string, id: string): Promise<boolean>;
  /** Disables an endpoint (it answered 410 Gone) and stops its pending deliveries. */
  disableEndpoint(id: string, now: number): Promise<void>;
  get(id: string): Promise<Delivery | null>;
  forJob(jobNum: number): Promise<Delivery[]>;
  /**
   * Claims up to `limit` deliveries due at `now` for one attempt each: their due time moves to
   * `until`, so no other dispatcher takes them meanwhile (and a crash leaves them due again then).
   */
  claimDue(now: number, until: number, limit: number): Promise<Delivery[]>;
  /** When the earliest pending attempt is due, or null when none is. */
  nextDue(): Promise<number | null>;
  /**
   * Records an attempt: it always counts, with its status and error (a receiver that answered did
   * get it). Its next due time is set only while the attempt's claim (`claimedUntil`) still stands:
   * a redelivery, a disabled or deleted endpoint decided meanwhile is not undone.
   */
  record(id: string, outcome: AttemptOutcome, claimedUntil: number, now: number): Promise<void>;
  /** Makes a delivery due again now. */
  redeliver(id: string, now: number): Promise<void>;
}
