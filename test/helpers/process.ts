import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GraphQLClient } from './client';
import { defaultKey } from './server';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** Sends the data directory's default key. */
  client: GraphQLClient;
  apiKey: string | null;
  url: string;
  /** Peak resident memory of the process so far, in bytes (Linux VmHWM). */
  peakRss(): number;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Node's arguments in package.json's start script: the built service as `npm start` runs it (test/global-setup.ts builds it). */
export const SERVICE_ARGS: string[] = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(' && ')
  .at(-1)!
  .split(' ')
  .slice(1);

/**
 * Starts the service as `npm start` does (from the built `checkout`, this one by default), in its own
 * process, on a free port; `nodeArgs` such as --cpu-prof go to node.
 */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, nodeArgs: string[] = [], checkout = root): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, ...SERVICE_ARGS], {
    cwd: checkout,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'sluice is listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code} before listening`)));
  });
  const apiKey = await defaultKey(dataDir);
  return {
    child,
    client: new GraphQLClient(url, apiKey),
    apiKey,
    url,
    peakRss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
