import { parseArgs } from 'node:util';
import { keyHint } from './auth/api-key';
import { ConfigError, loadConfig } from './config';
import { openEngine } from './engines';
import type { ApiKeyStore } from './ports/key-store';

const USAGE = `usage (the data directory is SLUICE_DATA_DIR, ./data by default):
  sluice keys create --workspace <name> [--name <label>]   prints a new key, once
  sluice keys list [--workspace <name>]
  sluice keys revoke <id>`;

/** Workspace names: what a person would type, and safe in logs and file names. */
const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

class UsageError extends Error {}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

type Options = { workspace?: string; name?: string };

async function createKey(keys: ApiKeyStore, { workspace, name }: Options): Promise<void> {
  if (workspace === undefined || !WORKSPACE_NAME.test(workspace)) {
    throw new UsageError('--workspace is required: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  const { record, token } = await keys.create(workspace, name ?? null, Date.now());
  // The key alone on stdout, so that scripts can capture it; the rest goes to stderr.
  console.error(`created key ${record.id} for workspace "${workspace}"; it is shown only now, send it as "Authorization: Bearer <key>":`);
  console.log(token);
}

async function listKeys(keys: ApiKeyStore, { workspace }: Options): Promise<void> {
  const rows = (await keys.list(workspace)).map((key) => [key.id, key.workspace, keyHint(key.id), iso(key.createdAt), key.revokedAt === null ? 'active' : `revoked ${iso(key.revokedAt)}`, key.name ?? '']);
  const table = [['ID', 'WORKSPACE', 'KEY', 'CREATED', 'STATUS', 'NAME'], ...rows];
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

async function revokeKey(keys: ApiKeyStore, id: string): Promise<void> {
  if (!(await keys.revoke(id, Date.now()))) throw new UsageError(`no active key with id "${id}"`);
  console.error(`revoked key ${id}: requests with it are refused from now on`);
}

async function run(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { workspace: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [group, command, ...rest] = positionals;
  if (values.help || group !== 'keys') throw new UsageError(USAGE);
  const engine = openEngine(loadConfig());
  try {
    await engine.open();
    if (command === 'create' && rest.length === 0) await createKey(engine.keys, values);
    else if (command === 'list' && rest.length === 0) await listKeys(engine.keys, values);
    else if (command === 'revoke' && rest.length === 1) await revokeKey(engine.keys, rest[0]);
    else throw new UsageError(USAGE);
  } finally {
    await engine.close();
  }
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError || error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw error;
  console.error(`sluice: ${(error as Error).message}`);
  process.exit(2);
}
