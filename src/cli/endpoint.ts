import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { usageError } from './errors';

export const DEFAULT_URL = 'http://127.0.0.1:4000';

/** The options of every command that talks to a server. */
export interface ServerOptions {
  url: string;
  keyFile?: string;
}

/** Where the server answers, and the key to send (null: none, for a server with SLUICE_AUTH=off). */
export interface Endpoint {
  http: URL;
  ws: URL;
  key: string | null;
}

/** Adds --url and --key-file. There is no option for the key itself: command lines show in `ps` and shell history. */
export function withServerOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'the server (its /graphql path is added when missing)').env('SLUICE_URL').default(DEFAULT_URL))
    .option('--key-file <path>', 'read the API key from this file (else from the SLUICE_KEY environment variable)');
}

export async function resolveEndpoint(options: ServerOptions): Promise<Endpoint> {
  const http = graphqlUrl(options.url);
  const ws = new URL(http);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http, ws, key: await readKey(options.keyFile) };
}

/** The GraphQL endpoint of a server URL: "http://host:4000" and "http://host:4000/graphql" both work. */
function graphqlUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url / SLUICE_URL is not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url / SLUICE_URL must be http:// or https://, got "${text}"`);
  if (!url.pathname.endsWith('/graphql')) url.pathname = `${url.pathname.replace(/\/$/, '')}/graphql`;
  return url;
}

async function readKey(keyFile: string | undefined): Promise<string | null> {
  if (keyFile === undefined) return process.env.SLUICE_KEY?.trim() || null;
  let text: string;
  try {
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    throw usageError(`cannot read the key file: ${(error as Error).message}`);
  }
  if (text.trim() === '') throw usageError(`the key file ${keyFile} is empty`);
  return text.trim();
}
