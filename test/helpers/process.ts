import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
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

/** The service as `npm start` runs it, on 127.0.0.1 and a free port unless `env` says otherwise; its stdout (the log) is piped. */
function spawnService(dataDir: string, env: Record<string, string>, nodeArgs: string[], stderr: 'inherit' | 'pipe'): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, ...SERVICE_ARGS], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', stderr],
  });
}

/** Starts the service as `npm start` does, in its own process, on a free port; `nodeArgs` such as --cpu-prof go to node. */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
  const child = spawnService(dataDir, env, nodeArgs, 'inherit');
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

/** Log lines of a process, parsed (a line that is not JSON is kept as its msg). */
export type LogLine = { level?: number; msg?: string; pid?: number };

/** Runs the service on `dataDir` until it exits by itself (killed after 30 s), with what it logged and wrote on stderr. */
export async function runServerToExit(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; lines: LogLine[]; stderr: string }> {
  const child = spawnService(dataDir, env, [], 'pipe');
  const lines: LogLine[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      lines.push({ msg: line });
    }
  });
  const stderr = text(child.stderr!);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    // 'close' comes after stdout and stderr have ended: every line has been read.
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, lines, stderr: await stderr };
  } finally {
    clearTimeout(timer);
  }
}
