import { randomBytes } from 'node:crypto';
import { type ApiKeyRecord, type Caller, issueKey, parseKey, secretMatches } from '../../auth/api-key';
import type { ApiKeyStore } from '../../ports/key-store';
import { type ApiKeyRow, toKeyRecord } from '../shared/key-record';
import type { Db } from './database';

const LINK_SIGNING_KEY = 'link-signing-key';

/** API keys in SQLite, hashed. Every request reads its key's row, so a key revoked from the CLI (another process) stops working at the next request. */
export class SqliteApiKeyStore implements ApiKeyStore {
  private readonly statements;

  constructor(db: Db) {
    this.statements = {
      byId: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?'),
      insert: db.prepare('INSERT INTO api_keys (id, workspace, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
      all: db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
      ofWorkspace: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE workspace = ? ORDER BY created_at, id'),
      any: db.prepare('SELECT 1 FROM api_keys LIMIT 1'),
      revoke: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      makeSecret: db.prepare('INSERT INTO deployment_secrets (name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING'),
      secret: db.prepare<[string], { secret: Buffer }>('SELECT secret FROM deployment_secrets WHERE name = ?'),
    };
  }

  async create(workspace: string, name: string | null, now: number): Promise<{ record: ApiKeyRecord; token: string }> {
    const key = issueKey();
    this.statements.insert.run(key.id, workspace, name, key.secretHash, now);
    return { record: { id: key.id, workspace, name, createdAt: now, revokedAt: null }, token: key.token };
  }

  async list(workspace?: string): Promise<ApiKeyRecord[]> {
    const rows = workspace === undefined ? this.statements.all.all() : this.statements.ofWorkspace.all(workspace);
    return rows.map(toKeyRecord);
  }

  async any(): Promise<boolean> {
    return this.statements.any.get() !== undefined;
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return this.statements.revoke.run(now, id).changes === 1;
  }

  async authenticate(token: string): Promise<Caller | null> {
    const parsed = parseKey(token);
    if (!parsed) return null;
    const row = this.statements.byId.get(parsed.id);
    if (!row || row.revoked_at !== null || !secretMatches(parsed.secret, row.secret_hash)) return null;
    return { keyId: row.id, workspace: row.workspace };
  }

  async linkSigningKey(): Promise<Buffer> {
    // The first caller's secret wins; every later one reads it.
    this.statements.makeSecret.run(LINK_SIGNING_KEY, randomBytes(32), Date.now());
    return this.statements.secret.get(LINK_SIGNING_KEY)!.secret;
  }
}
