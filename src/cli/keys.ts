import type { Command } from 'commander';
import { keyHint } from '../auth/api-key';
import { loadConfig } from '../config';
import { openEngine } from '../engines';
import type { ApiKeyStore } from '../ports/key-store';
import { usageError } from './errors';
import { printTable } from './format';

/** Workspace names: what a person would type, and safe in logs and file names. */
const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type KeyOptions = { workspace?: string; name?: string };

/** `sluice keys …`: works on the data directory's database itself (no server needed, also while one runs). */
export function addKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description("manage API keys in a server's database (SLUICE_DATA_DIR, ./data by default, or SLUICE_DATABASE_URL), not through the server");
  keys
    .command('create')
    .description('create a key and print it, once, on stdout')
    .option('--workspace <name>', 'the workspace it belongs to (required): 1 to 64 letters, digits, ".", "_" or "-"')
    .option('--name <label>', 'a label that list shows')
    .action((options: KeyOptions) => withKeyStore((store) => createKey(store, options)));
  keys
    .command('list')
    .description('list keys: id, workspace, created, status; never the secret')
    .option('--workspace <name>', "only this workspace's keys")
    .action((options: KeyOptions) => withKeyStore((store) => listKeys(store, options)));
  keys
    .command('revoke')
    .description('revoke a key: refused from the next request on')
    .argument('<id>', 'the key id, as list shows it')
    .action((id: string) => withKeyStore((store) => revokeKey(store, id)));
}

async function withKeyStore(use: (keys: ApiKeyStore) => Promise<void>): Promise<void> {
  const engine = openEngine(loadConfig());
  try {
    await engine.open();
    await use(engine.keys);
  } finally {
    await engine.close();
  }
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

async function createKey(keys: ApiKeyStore, { workspace, name }: KeyOptions): Promise<void> {
  if (workspace === undefined || !WORKSPACE_NAME.test(workspace)) {
    throw usageError('--workspace is required: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  const { record, token } = await keys.create(workspace, name ?? null, Date.now());
  // The key alone on stdout, so that scripts can capture it; the rest goes to stderr.
  console.error(`created key ${record.id} for workspace "${workspace}"; it is shown only now, send it as "Authorization: Bearer <key>":`);
  console.log(token);
}

async function listKeys(keys: ApiKeyStore, { workspace }: KeyOptions): Promise<void> {
  const rows = (await keys.list(workspace)).map((key) => [key.id, key.workspace, keyHint(key.id), iso(key.createdAt), key.revokedAt === null ? 'active' : `revoked ${iso(key.revokedAt)}`, key.name ?? '']);
  printTable(['ID', 'WORKSPACE', 'KEY', 'CREATED', 'STATUS', 'NAME'], rows);
}

async function revokeKey(keys: ApiKeyStore, id: string): Promise<void> {
  if (!(await keys.revoke(id, Date.now()))) throw usageError(`no active key with id "${id}"`);
  console.error(`revoked key ${id}: requests with it are refused from now on`);
}
