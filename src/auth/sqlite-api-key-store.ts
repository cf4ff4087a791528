import type { Db } from '../storage/sqlite';
import { issueKey, parseKey, secretMatches } from './api-key';

export interface ApiKeyRecord {
  id: string;
  workspace: string;
  name: string | null;
  createdAt: number;
  revokedAt: number | null;
}

/** Who a request comes from: the key it presented and the workspace that key belongs to. */
export interface Caller {
  keyId: string;
  workspace: string;
}

interface Row {
  id: string;
  workspace: string;
  name: string | null;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const toRecord = (row: Row): ApiKeyRecord => ({ id: row.id, workspace: row.workspace, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at });

/**
 * API keys in SQLite, hashed. Every request reads its key's row, so a key revoked from the CLI
 * (another process) stops working at the next request.
 */
export class SqliteApiKeyStore {
  private readonly byId;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?');
  }

  /** Creates a key; the returned token is the only time the secret exists outside the caller's hands. */
  create(workspace: string, name: string | null = null, now = Date.now()): { record: ApiKeyRecord; token: string } {
    const key = issueKey();
    this.db
      .prepare('INSERT INTO api_keys (id, workspace, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.id, workspace, name, key.secretHash, now);
    return { record: { id: key.id, workspace, name, createdAt: now, revokedAt: null }, token: key.token };
  }

  list(workspace?: string): ApiKeyRecord[] {
    const rows = workspace === undefined
      ? this.db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id').all()
      : this.db.prepare<[string], Row>('SELECT * FROM api_keys WHERE workspace = ? ORDER BY created_at, id').all(workspace);
    return rows.map(toRecord);
  }

  /** Whether any key was ever created (revoked ones count: revoking every key must not bring a default one back). */
  any(): boolean {
    return this.db.prepare('SELECT 1 FROM api_keys LIMIT 1').get() !== undefined;
  }

  /** Revokes a key; false when there is no such key or it was already revoked. */
  revoke(id: string, now = Date.now()): boolean {
    return this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id).changes === 1;
  }

  /** The caller a presented key stands for, or null for a malformed, unknown, wrong or revoked key. */
  authenticate(token: string): Caller | null {
    const parsed = parseKey(token);
    if (!parsed) return null;
    const row = this.byId.get(parsed.id);
    if (!row || row.revoked_at !== null || !secretMatches(parsed.secret, row.secret_hash)) return null;
    return { keyId: row.id, workspace: row.workspace };
  }
}
