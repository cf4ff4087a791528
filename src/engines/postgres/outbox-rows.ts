import type pg from 'pg';
import type { NewDelivery, WebhookEndpoint } from '../../webhooks/model';

interface EndpointRow {
  id: string;
  workspace: string;
  url: string;
  events: string[];
  secret: string;
  disabled_at: number | null;
  created_at: number;
}

export function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return { id: row.id, workspace: row.workspace, url: row.url, events: row.events, disabledAt: row.disabled_at, createdAt: row.created_at };
}

/** The workspace's endpoints, in the order they were registered, on the caller's connection (inside its transaction). */
export async function endpointsOf(client: pg.ClientBase, workspace: string): Promise<WebhookEndpoint[]> {
  const { rows } = await client.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE workspace = $1 ORDER BY created_at, id', [workspace]);
  return rows.map(toEndpoint);
}

/** Writes a delivery into the outbox, due now, on the caller's connection (inside the transaction of the transition it announces). */
export async function enqueueDelivery(client: pg.ClientBase, delivery: NewDelivery, now: number): Promise<void> {
  await client.query(
    `INSERT INTO webhook_deliveries (id, job_num, workspace, endpoint_id, url, event, payload, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
    [delivery.id, delivery.jobNum, delivery.workspace, delivery.endpointId, delivery.url, delivery.event, delivery.payload, now],
  );
}
