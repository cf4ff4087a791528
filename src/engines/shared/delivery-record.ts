import type { Delivery } from '../../webhooks/model';

/** A row of `webhook_deliveries`, as every engine stores it. */
export interface DeliveryRow {
  id: string;
  job_num: number;
  workspace: string;
  endpoint_id: string | null;
  url: string;
  event: string;
  payload: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  next_attempt_at: number | null;
  created_at: number;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    jobNum: row.job_num,
    workspace: row.workspace,
    endpointId: row.endpoint_id,
    url: row.url,
    event: row.event,
    payload: row.payload,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
  };
}
