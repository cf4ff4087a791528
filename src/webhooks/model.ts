export interface WebhookEndpoint {
  id: string;
  workspace: string;
  url: string;
  events: string[];
  disabledAt: number | null;
  createdAt: number;
}

/** One event for one destination: a row of the webhook outbox. */
export interface Delivery {
  id: string; // the webhook-id header: the same on every attempt
  jobNum: number;
  workspace: string;
  endpointId: string | null;
  url: string;
  event: string;
  payload: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  /** When the next attempt is due; null when none is (delivered, or given up). */
  nextAttemptAt: number | null;
  createdAt: number;
}

export type NewDelivery = Pick<Delivery, 'id' | 'jobNum' | 'workspace' | 'endpointId' | 'url' | 'event' | 'payload'>;

export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
  nextAttemptAt: number | null;
}
