import type { ApiKeyRecord, Caller } from '../auth/api-key';

/** API keys, stored hashed. A key revoked by another process (the CLI) stops working at the next request. */
export interface ApiKeyStore {
  /** Creates a key; the returned token is the only time the secret exists outside the caller's hands. */
  create(workspace: string, name: string | null, now: number): Promise<{ record: ApiKeyRecord; token: string }>;
  list(workspace?: string): Promise<ApiKeyRecord[]>;
  /** Whether any key was ever created (revoked ones count: revoking every key must not bring a default one back). */
  any(): Promise<boolean>;
  /** Revokes a key; false when there is no such key or it was already revoked. */
  revoke(id: string, now: number): Promise<boolean>;
  /** The caller a presented key stands for, or null for a malformed, unknown, wrong or revoked key. */
  authenticate(token: string): Promise<Caller | null>;
  /** The deployment's secret for signed links: made at its first use, then the same for every instance and restart. */
  linkSigningKey(): Promise<Buffer>;
}
