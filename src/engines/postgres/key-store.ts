import { randomBytes } from 'node:crypto';
import { type ApiKeyRecord, type Caller, issueKey, parseKey, secretMatches } from '../../auth/api-key';
import type { ApiKeyStore } from '../../ports/key-store';
import { type ApiKeyRow, toKeyRecord } from '../shared/key-record';
import type { Pool } from './database';

const LINK_SIGNING_KEY = 'link-signing-key';

/** API keys in PostgreSQL, hashed. Every request reads its key's row, so a key revoked through any instance stops working at the next request. */
export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly pool: Pool) {}

  async create(workspace: string, name: string | null, now: number): Promise<{ record: ApiKeyRecord; token: string }> {
    const key = issueKey();
    await this.pool.query('INSERT INTO api_keys (id, workspace, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [key.id, workspace, name, key.secretHash, now]);
    return { record: { id: key.id, workspace, name, createdAt: now, revokedAt: null }, token: key.token };
  }

  async list(workspace?: string): Promise<ApiKeyRecord[]> {
    const { rows } =
      workspace === undefined
        ? await this.pool.query<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id')
        : await this.pool.query<ApiKeyRow>('SELECT * FROM api_keys WHERE workspace = $1 ORDER BY created_at, id', [workspace]);
    return rows.map(toKeyRecord);
  }

  async any(): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM api_keys LIMIT 1')).rowCount ?? 0) > 0;
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return (await this.pool.query('UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, now])).rowCount === 1;
  }

  async authenticate(token: string): Promise<Caller | null> {
    const parsed = parseKey(token);
    if (!parsed) return null;
    const { rows } = await this.pool.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [parsed.id]);
    const row = rows[0];
    if (!row || row.revoked_at !== null || !secretMatches(parsed.secret, row.secret_hash)) return null;
    return { keyId: row.id, workspace: row.workspace };
  }

  async linkSigningKey(): Promise<Buffer> {
    // The first instance's secret wins; every other one reads it.
    await this.pool.query('INSERT INTO deployment_secrets (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [LINK_SIGNING_KEY, randomBytes(32), Date.now()]);
    const { rows } = await this.pool.query<{ secret: Buffer }>('SELECT secret FROM deployment_secrets WHERE name = $1', [LINK_SIGNING_KEY]);
    return rows[0].secret;
  }
}
