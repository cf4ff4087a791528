import { randomUUID } from 'node:crypto';
import type { WebhookStore } from '../../ports/webhook-store';
import type { AttemptOutcome, Delivery, NewDelivery, WebhookEndpoint } from '../../webhooks/model';
import { newSecret } from '../../webhooks/signing';
import { type DeliveryRow, toDelivery } from '../shared/delivery-record';
import { type Db, writeTransaction } from './database';

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

interface SecretsRow {
  secret: string;
  previous_secret: string | null;
  previous_valid_until: number | null;
}

function statements(db: Db) {
  return {
    secret: db.prepare('SELECT secret, previous_secret, previous_valid_until FROM workspace_signing_secrets WHERE workspace = ?'),
    createSecret: db.prepare('INSERT OR IGNORE INTO workspace_signing_secrets (workspace, secret) VALUES (?, ?)'),
    rotate: db.prepare('UPDATE workspace_signing_secrets SET previous_secret = secret, previous_valid_until = ?, secret = ? WHERE workspace = ?'),
    insert: db.prepare(`
      INSERT INTO webhook_deliveries (id, job_num, workspace, endpoint_id, url, event, payload, next_attempt_at, created_at)
      VALUES (@id, @jobNum, @workspace, @endpointId, @url, @event, @payload, @now, @now)`),
    insertEndpoint: db.prepare('INSERT INTO webhook_endpoints (id, workspace, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    countEndpoints: db.prepare('SELECT count(*) FROM webhook_endpoints WHERE workspace = ?').pluck(),
    endpoint: db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?'),
    endpoints: db.prepare('SELECT * FROM webhook_endpoints WHERE workspace = ? ORDER BY created_at, id'),
    deleteEndpoint: db.prepare('DELETE FROM webhook_endpoints WHERE id = ? AND workspace = ?'),
    stopEndpointDeliveries: db.prepare('UPDATE webhook_deliveries SET next_attempt_at = NULL, last_error = ? WHERE endpoint_id = ? AND next_attempt_at IS NOT NULL'),
    disableEndpoint: db.prepare('UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL'),
    byId: db.prepare('SELECT * FROM webhook_deliveries WHERE id = ?'),
    forJob: db.prepare('SELECT * FROM webhook_deliveries WHERE job_num = ? ORDER BY created_at, id'),
    due: db.prepare('SELECT * FROM webhook_deliveries WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?'),
    nextDue: db.prepare('SELECT min(next_attempt_at) FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL').pluck(),
    claim: db.prepare('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?'),
    record: db.prepare(`
      UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = @statusCode, last_error = @error,
        delivered_at = CASE WHEN @delivered THEN @now ELSE delivered_at END,
        next_attempt_at = CASE WHEN next_attempt_at = @claimedUntil THEN @nextAttemptAt ELSE next_attempt_at END
      WHERE id = @id`),
    redeliver: db.prepare('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?'),
  };
}

/** The webhook store on SQLite; `endpointsOf` and `enqueue` are the steps the job store composes into a transition. */
export class SqliteWebhookStore implements WebhookStore {
  private readonly statements;

  constructor(private readonly db: Db) {
    this.statements = statements(db);
  }

  /** The workspace's signing secrets, created on first use. */
  private secrets(workspace: string): SecretsRow {
    const row = this.statements.secret.get(workspace) as SecretsRow | undefined;
    if (row) return row;
    this.statements.createSecret.run(workspace, newSecret());
    return this.statements.secret.get(workspace) as SecretsRow;
  }

  async currentSecret(workspace: string): Promise<string> {
    return this.secrets(workspace).secret;
  }

  async signingSecrets(workspace: string, now: number): Promise<string[]> {
    const row = this.secrets(workspace);
    return row.previous_secret && (row.previous_valid_until ?? 0) > now ? [row.secret, row.previous_secret] : [row.secret];
  }

  async rotate(workspace: string, previousValidUntil: number): Promise<string> {
    return writeTransaction(this.db, () => {
      this.secrets(workspace);
      const secret = newSecret();
      this.statements.rotate.run(previousValidUntil, secret, workspace);
      return secret;
    });
  }

  async createEndpoint(workspace: string, url: string, events: readonly string[], now: number, admit: (endpoints: number) => void): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    return writeTransaction(this.db, () => {
      admit(this.statements.countEndpoints.get(workspace) as number);
      const id = `whk_${randomUUID()}`;
      const secret = newSecret();
      this.statements.insertEndpoint.run(id, workspace, url, JSON.stringify(events), secret, now);
      return { endpoint: toEndpoint(this.statements.endpoint.get(id) as EndpointRow), secret };
    });
  }

  async endpoints(workspace: string): Promise<WebhookEndpoint[]> {
    return this.endpointsOf(workspace);
  }

  endpointsOf(workspace: string): WebhookEndpoint[] {
    return (this.statements.endpoints.all(workspace) as EndpointRow[]).map(toEndpoint);
  }

  async activeEndpointSecret(id: string): Promise<string | null> {
    const row = this.statements.endpoint.get(id) as EndpointRow | undefined;
    return row && row.disabled_at === null ? row.secret : null;
  }

  async deleteEndpoint(workspace: string, id: string): Promise<boolean> {
    return writeTransaction(this.db, () => {
      if (this.statements.deleteEndpoint.run(id, workspace).changes === 0) return false;
      this.statements.stopEndpointDeliveries.run('the endpoint was deleted', id);
      return true;
    });
  }

  async disableEndpoint(id: string, now: number): Promise<void> {
    writeTransaction(this.db, () => {
      this.statements.disableEndpoint.run(now, id);
      this.statements.stopEndpointDeliveries.run('the endpoint is disabled (410 Gone)', id);
    });
  }

  enqueue(delivery: NewDelivery, now: number): void {
    this.statements.insert.run({ ...delivery, now });
  }

  async get(id: string): Promise<Delivery | null> {
    const row = this.statements.byId.get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : null;
  }

  async forJob(jobNum: number): Promise<Delivery[]> {
    return (this.statements.forJob.all(jobNum) as DeliveryRow[]).map(toDelivery);
  }

  async claimDue(now: number, until: number, limit: number): Promise<Delivery[]> {
    return writeTransaction(this.db, () => {
      const due = (this.statements.due.all(now, limit) as DeliveryRow[]).map(toDelivery);
      for (const delivery of due) this.statements.claim.run(until, delivery.id);
      return due;
    });
  }

  async nextDue(): Promise<number | null> {
    return this.statements.nextDue.get() as number | null;
  }

  async record(id: string, outcome: AttemptOutcome, claimedUntil: number, now: number): Promise<void> {
    this.statements.record.run({ id, ...outcome, delivered: outcome.delivered ? 1 : 0, claimedUntil, now });
  }

  async redeliver(id: string, now: number): Promise<void> {
    this.statements.redeliver.run(now, id);
  }
}
