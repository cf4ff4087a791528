import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/sqlite';
import { newSecret } from './signing';

export interface WebhookEndpoint {
  id: string;
  workspace: string;
  url: string;
  events: string[];
  disabledAt: number | null;
  createdAt: number;
}

interface EndpointRow {
  id: string;
  workspace: string;
  url: string;
  events: string;
  secret: string;
  disabled_at: number | null;
  created_at: number;
}

function toEndpoint(row: EndpointRow): WebhookEndpoint {
  return { id: row.id, workspace: row.workspace, url: row.url, events: JSON.parse(row.events), disabledAt: row.disabled_at, createdAt: row.created_at };
}

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

interface DeliveryRow {
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

function toDelivery(row: DeliveryRow): Delivery {
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

export interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
  nextAttemptAt: number | null;
}

/** Webhook state: the workspaces' signing secrets and the delivery outbox. */
export class SqliteWebhookStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      secret: db.prepare('SELECT secret, previous_secret, previous_valid_until FROM workspace_signing_secrets WHERE workspace = ?'),
      createSecret: db.prepare('INSERT OR IGNORE INTO workspace_signing_secrets (workspace, secret) VALUES (?, ?)'),
      rotate: db.prepare('UPDATE workspace_signing_secrets SET previous_secret = secret, previous_valid_until = ?, secret = ? WHERE workspace = ?'),
      insert: db.prepare(`
        INSERT INTO webhook_deliveries (id, job_num, workspace, endpoint_id, url, event, payload, next_attempt_at, created_at)
        VALUES (@id, @jobNum, @workspace, @endpointId, @url, @event, @payload, @now, @now)`),
      insertEndpoint: db.prepare('INSERT INTO webhook_endpoints (id, workspace, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      endpoint: db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?'),
      endpoints: db.prepare('SELECT * FROM webhook_endpoints WHERE workspace = ? ORDER BY created_at, id'),
      deleteEndpoint: db.prepare('DELETE FROM webhook_endpoints WHERE id = ? AND workspace = ?'),
      stopEndpointDeliveries: db.prepare('UPDATE webhook_deliveries SET next_attempt_at = NULL, last_error = ? WHERE endpoint_id = ? AND next_attempt_at IS NOT NULL'),
      disableEndpoint: db.prepare('UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL'),
      byId: db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?'),
      forJob: db.prepare('SELECT * FROM webhook_deliveries WHERE job_num = ? ORDER BY created_at, id'),
      due: db.prepare('SELECT * FROM webhook_deliveries WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?'),
      nextDue: db.prepare('SELECT min(next_attempt_at) FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL').pluck(),
      lease: db.prepare('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND next_attempt_at <= ?'),
      record: db.prepare(`
        UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = @statusCode, last_error = @error,
          delivered_at = CASE WHEN @delivered THEN @now ELSE delivered_at END,
          next_attempt_at = CASE WHEN next_attempt_at = @leasedUntil THEN @nextAttemptAt ELSE next_attempt_at END
        WHERE id = @id`),
      redeliver: db.prepare('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?'),
    };
  }

  /** The workspace's signing secrets, created on first use. */
  private secrets(workspace: string): { secret: string; previous_secret: string | null; previous_valid_until: number | null } {
    type Row = { secret: string; previous_secret: string | null; previous_valid_until: number | null };
    const row = this.statements.secret.get(workspace) as Row | undefined;
    if (row) return row;
    this.statements.createSecret.run(workspace, newSecret());
    return this.statements.secret.get(workspace) as Row;
  }

  /** The workspace's current signing secret, created on first use. */
  currentSecret(workspace: string): string {
    return this.secrets(workspace).secret;
  }

  /** The secrets to sign with now: the current one, and the previous one during a rotation's overlap. */
  signingSecrets(workspace: string, now: number): string[] {
    const row = this.secrets(workspace);
    return row.previous_secret && (row.previous_valid_until ?? 0) > now ? [row.secret, row.previous_secret] : [row.secret];
  }

  /** Replaces the signing secret; the old one keeps signing too until `previousValidUntil`. */
  rotate(workspace: string, previousValidUntil: number): string {
    this.currentSecret(workspace);
    const secret = newSecret();
    this.statements.rotate.run(previousValidUntil, secret, workspace);
    return secret;
  }

  createEndpoint(workspace: string, url: string, events: readonly string[], now: number): { endpoint: WebhookEndpoint; secret: string } {
    const id = `whk_${randomUUID()}`;
    const secret = newSecret();
    this.statements.insertEndpoint.run(id, workspace, url, JSON.stringify(events), secret, now);
    return { endpoint: this.endpoint(id)!, secret };
  }

  endpoint(id: string): WebhookEndpoint | null {
    const row = this.statements.endpoint.get(id) as EndpointRow | undefined;
    return row ? toEndpoint(row) : null;
  }

  /** The secret of an endpoint that may still receive events, or null when it was deleted or disabled. */
  activeEndpointSecret(id: string): string | null {
    const row = this.statements.endpoint.get(id) as EndpointRow | undefined;
    return row && row.disabled_at === null ? row.secret : null;
  }

  endpoints(workspace: string): WebhookEndpoint[] {
    return (this.statements.endpoints.all(workspace) as EndpointRow[]).map(toEndpoint);
  }

  /** Deletes an endpoint of the workspace and stops its pending deliveries; false when there is none. */
  deleteEndpoint(workspace: string, id: string): boolean {
    if (this.statements.deleteEndpoint.run(id, workspace).changes === 0) return false;
    this.statements.stopEndpointDeliveries.run('the endpoint was deleted', id);
    return true;
  }

  /** An endpoint that answered 410 Gone gets nothing more. */
  disableEndpoint(id: string, now: number): void {
    this.statements.disableEndpoint.run(now, id);
    this.statements.stopEndpointDeliveries.run('the endpoint is disabled (410 Gone)', id);
  }

  enqueue(delivery: { id: string; jobNum: number; workspace: string; endpointId: string | null; url: string; event: string; payload: string }, now: number): void {
    this.statements.insert.run({ ...delivery, now });
  }

  get(id: string): Delivery | null {
    const row = this.statements.byId.get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : null;
  }

  forJob(jobNum: number): Delivery[] {
    return (this.statements.forJob.all(jobNum) as DeliveryRow[]).map(toDelivery);
  }

  due(now: number, limit: number): Delivery[] {
    return (this.statements.due.all(now, limit) as DeliveryRow[]).map(toDelivery);
  }

  /** When the earliest pending attempt is due, or null when none is. */
  nextDue(): number | null {
    return this.statements.nextDue.get() as number | null;
  }

  /** Takes a due delivery for one attempt, pushing its due time past the attempt; false when another took it. */
  lease(id: string, now: number, until: number): boolean {
    return this.statements.lease.run(until, id, now).changes === 1;
  }

  /**
   * Records an attempt. Its next due time is set only while the attempt's lease still stands: a
   * redelivery, a disabled or deleted endpoint decided meanwhile is not undone.
   */
  record(id: string, outcome: AttemptOutcome, leasedUntil: number, now: number): void {
    this.statements.record.run({ id, ...outcome, delivered: outcome.delivered ? 1 : 0, leasedUntil, now });
  }

  redeliver(id: string, now: number): void {
    this.statements.redeliver.run(now, id);
  }
}
