import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `sluice_<id>_<secret>`: the id is public (listed, revoked by), the secret is
 * 256 random bits of which only a SHA-256 is stored. A slow hash would add nothing for a secret
 * that cannot be guessed, and would cost every request.
 */
const PREFIX = 'sluice_';
const ID_PATTERN = /^[a-z0-9]{12}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedKey {
  id: string;
  /** The whole key, shown once. */
  token: string;
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function issueKey(): IssuedKey {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key, or null. */
export function parseKey(token: string): { id: string; secret: string } | null {
  if (!token.startsWith(PREFIX)) return null;
  const id = token.slice(PREFIX.length, PREFIX.length + 12);
  const secret = token.slice(PREFIX.length + 13);
  if (token[PREFIX.length + 12] !== '_' || !ID_PATTERN.test(id) || !SECRET_PATTERN.test(secret)) return null;
  return { id, secret };
}

/** Compares in constant time, so that response times do not tell how much of a guess was right. */
export function secretMatches(secret: string, secretHash: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(secret), 'hex'), Buffer.from(secretHash, 'hex'));
}

/** What a shown key may reveal of itself: enough to recognise it. */
export function keyHint(id: string): string {
  return `${PREFIX}${id}_…`;
}

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
