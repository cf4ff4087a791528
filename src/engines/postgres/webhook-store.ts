import { randomUUID } from 'node:crypto';
import type { WebhookStore } from '../../ports/webhook-store';
import type { AttemptOutcome, Delivery, WebhookEndpoint } from '../../webhooks/model';
import { newSecret } from '../../webhooks/signing';
import { type DeliveryRow, toDelivery } from '../shared/delivery-record';
import { type Pool, transaction } from './database';
import { endpointsOf, toEndpoint } from './outbox-rows';

interface SecretsRow {
  secret: string;
  previous_secret: string | null;
  previous_valid_until: number | null;
}

/** The first key of the advisory locks that serialise endpoint creation, one lock per workspace (the second key). */
const ENDPOINTS_LOCK = 0x51_1c_e0_02;

const DELIVERY_COLUMNS = 'id, job_num, workspace, endpoint_id, url, event, payload, attempts, last_status_code, last_error, delivered_at, next_attempt_at, created_at';

/**
 * Takes up to `limit` due deliveries, in due order, skipping rows another dispatcher has locked in
 * its own claim, and moves them to `until` in the same statement. Returns each as it was before the
 * claim (as the embedded engine does), with its due time and write order to sort by.
 */
const CLAIM_DUE = `
  WITH due AS (
    SELECT id, next_attempt_at AS due_at, written FROM webhook_deliveries
    WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, written LIMIT $3
    FOR UPDATE SKIP LOCKED)
  UPDATE webhook_deliveries AS d SET next_attempt_at = $2 FROM due WHERE d.id = due.id
  RETURNING d.id, d.job_num, d.workspace, d.endpoint_id, d.url, d.event, d.payload, d.attempts, d.last_status_code,
    d.last_error, d.delivered_at, due.due_at AS next_attempt_at, d.created_at, due.written`;

/** Counts the attempt; sets the next due time only while the attempt's claim (`claimedUntil`, $6) still stands. */
const RECORD = `
  UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3,
    delivered_at = CASE WHEN $4::boolean THEN $5::bigint ELSE delivered_at END,
    next_attempt_at = CASE WHEN next_attempt_at = $6::bigint THEN $7::bigint ELSE next_attempt_at END
  WHERE id = $1`;

const STOP_ENDPOINT_DELIVERIES = 'UPDATE webhook_deliveries SET next_attempt_at = NULL, last_error = $2 WHERE endpoint_id = $1 AND next_attempt_at IS NOT NULL';

/** The webhook store on PostgreSQL: every method one statement or one transaction, safe with many instances on the same schema. */
export class PgWebhookStore implements WebhookStore {
  constructor(private readonly pool: Pool) {}

  /** The workspace's signing secrets, created on first use; concurrent first uses agree on one (the insert that loses does nothing). */
  private async secrets(workspace: string): Promise<SecretsRow> {
    const select = 'SELECT secret, previous_secret, previous_valid_until FROM workspace_signing_secrets WHERE workspace = $1';
    const { rows } = await this.pool.query<SecretsRow>(select, [workspace]);
    if (rows[0]) return rows[0];
    await this.pool.query('INSERT INTO workspace_signing_secrets (workspace, secret) VALUES ($1, $2) ON CONFLICT (workspace) DO NOTHING', [workspace, newSecret()]);
    return (await this.pool.query<SecretsRow>(select, [workspace])).rows[0];
  }

  async currentSecret(workspace: string): Promise<string> {
    return (await this.secrets(workspace)).secret;
  }

  async signingSecrets(workspace: string, now: number): Promise<string[]> {
    const row = await this.secrets(workspace);
    return row.previous_secret && (row.previous_valid_until ?? 0) > now ? [row.secret, row.previous_secret] : [row.secret];
  }

  /** One statement: a workspace that never signed gets the new secret, with no previous one (no receiver ever saw one). */
  async rotate(workspace: string, previousValidUntil: number): Promise<string> {
    const secret = newSecret();
    await this.pool.query(
      `INSERT INTO workspace_signing_secrets AS s (workspace, secret) VALUES ($1, $2)
       ON CONFLICT (workspace) DO UPDATE SET previous_secret = s.secret, previous_valid_until = $3, secret = excluded.secret`,
      [workspace, secret, previousValidUntil],
    );
    return secret;
  }

  /** Under a per-workspace advisory lock held to the commit, so that concurrent creates (any instance) each count the others' endpoints. */
  async createEndpoint(workspace: string, url: string, events: readonly string[], now: number, admit: (endpoints: number) => void): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    return transaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ENDPOINTS_LOCK, workspace]);
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints WHERE workspace = $1', [workspace]);
      admit(rows[0].n);
      const secret = newSecret();
      const inserted = await client.query(
        'INSERT INTO webhook_endpoints (id, workspace, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
        [`whk_${randomUUID()}`, workspace, url, JSON.stringify(events), secret, now],
      );
      return { endpoint: toEndpoint(inserted.rows[0]), secret };
    });
  }

  async endpoints(workspace: string): Promise<WebhookEndpoint[]> {
    const client = await this.pool.connect();
    try {
      return await endpointsOf(client, workspace);
    } finally {
      client.release();
    }
  }

  async activeEndpointSecret(id: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ secret: string }>('SELECT secret FROM webhook_endpoints WHERE id = $1 AND disabled_at IS NULL', [id]);
    return rows[0]?.secret ?? null;
  }

  async deleteEndpoint(workspace: string, id: string): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      const { rowCount } = await client.query('DELETE FROM webhook_endpoints WHERE id = $1 AND workspace = $2', [id, workspace]);
      if (rowCount !== 1) return false;
      await client.query(STOP_ENDPOINT_DELIVERIES, [id, 'the endpoint was deleted']);
      return true;
    });
  }

  async disableEndpoint(id: string, now: number): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('UPDATE webhook_endpoints SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL', [id, now]);
      await client.query(STOP_ENDPOINT_DELIVERIES, [id, 'the endpoint is disabled (410 Gone)']);
    });
  }

  async get(id: string): Promise<Delivery | null> {
    const { rows } = await this.pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`, [id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async forJob(jobNum: number): Promise<Delivery[]> {
    const { rows } = await this.pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE job_num = $1 ORDER BY written`, [jobNum]);
    return rows.map(toDelivery);
  }

  async claimDue(now: number, until: number, limit: number): Promise<Delivery[]> {
    const { rows } = await this.pool.query<DeliveryRow & { written: number }>(CLAIM_DUE, [now, until, limit]);
    // RETURNING keeps no order: put the claims back in due order.
    rows.sort((a, b) => a.next_attempt_at! - b.next_attempt_at! || a.written - b.written);
    return rows.map(toDelivery);
  }

  async nextDue(): Promise<number | null> {
    const { rows } = await this.pool.query<{ due: number | null }>('SELECT min(next_attempt_at) AS due FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL');
    return rows[0].due;
  }

  async record(id: string, outcome: AttemptOutcome, claimedUntil: number, now: number): Promise<void> {
    await this.pool.query(RECORD, [id, outcome.statusCode, outcome.error, outcome.delivered, now, claimedUntil, outcome.nextAttemptAt]);
  }

  async redeliver(id: string, now: number): Promise<void> {
    await this.pool.query('UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1', [id, now]);
  }
}
