import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ApiKeyStore } from '../ports/key-store';

export const DEFAULT_WORKSPACE = 'default';

/** Where the first start leaves the key it created: readable by the owner only. */
export function defaultKeyFile(dataDir: string): string {
  return join(dataDir, 'default-api-key');
}

/**
 * The first start needs no setup: when no key was ever created, one is made for workspace `default`,
 * printed once (on stderr, for the person who started the server, rather than into logs that may be
 * shipped elsewhere) and written to the data directory (mode 0600), so that the quick start can read it.
 */
export async function ensureFirstKey(keys: ApiKeyStore, dataDir: string, log: Logger): Promise<void> {
  if (await keys.any()) return;
  // The key is kept only in this file: the folder must exist before the key does (with PostgreSQL nothing else creates it).
  mkdirSync(dataDir, { recursive: true });
  const { record, token } = await keys.create(DEFAULT_WORKSPACE, 'created at first start', Date.now());
  const file = defaultKeyFile(dataDir);
  // A file left from an earlier database may have other permissions: create it anew.
  rmSync(file, { force: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  // Printed for a person at a terminal: not when logging is off (tests, embedded use).
  if (log.isLevelEnabled('warn')) {
    process.stderr.write(
      `\nsluice: created an API key for workspace "${DEFAULT_WORKSPACE}" (shown only this once; also saved to ${file}, readable only by you):\n\n` +
        `    ${token}\n\nSend it as "Authorization: Bearer <key>". More keys: npm run sluice -- keys create --workspace <name>\n\n`,
    );
  }
  log.warn({ workspace: DEFAULT_WORKSPACE, keyId: record.id, file }, 'created the first API key, for workspace "default"');
}

/** Logged at every start with SLUICE_AUTH=off. */
export function warnAuthOff(log: Logger): void {
  log.warn(
    '!!! SLUICE_AUTH=off: API KEYS ARE NOT CHECKED. Every request, from anyone who can reach this port, acts as workspace "default". For local development only: never expose this server. !!!',
  );
}
