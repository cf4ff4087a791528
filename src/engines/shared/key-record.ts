import type { ApiKeyRecord } from '../../auth/api-key';

/** A row of `api_keys`, as every engine stores it. */
export interface ApiKeyRow {
  id: string;
  workspace: string;
  name: string | null;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export const toKeyRecord = (row: ApiKeyRow): ApiKeyRecord => ({ id: row.id, workspace: row.workspace, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at });
