import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SqliteApiKeyStore } from './sqlite-api-key-store';

export const DEFAULT_WORKSPACE = 'default';

/** Where the first start leaves the key it created: readable by the owner only. */
export function defaultKeyFile(dataDir: string): string {
  return join(dataDir, 'default-api-key');
}

/**
 * The first start needs no setup: when no key was ever created, one is made for workspace `default`,
 * printed once and written to the data directory (mode 0600), so that the quick start can read it.
 */
export function ensureFirstKey(keys: SqliteApiKeyStore, dataDir: string, log: Logger): void {
  if (keys.any()) return;
  const { record, token } = keys.create(DEFAULT_WORKSPACE, 'created at first start');
  const file = defaultKeyFile(dataDir);
  // A file left from an earlier database may have other permissions: create it anew.
  rmSync(file, { force: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  log.warn(
    { workspace: DEFAULT_WORKSPACE, keyId: record.id, apiKey: token, file },
    'created an API key for workspace "default" (shown only this once; also saved to the file, readable only by its owner): send it as "Authorization: Bearer <key>"',
  );
}

/** Logged at every start with SLUICE_AUTH=off. */
export function warnAuthOff(log: Logger): void {
  log.warn(
    '!!! SLUICE_AUTH=off: API KEYS ARE NOT CHECKED. Every request, from anyone who can reach this port, acts as workspace "default". For local development only: never expose this server. !!!',
  );
}
