import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../src/engines/shared/local-process';
import { GraphQLClient } from './client';
import { engineEnv } from './engine';
import { defaultKey } from './server';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** The service's own pid: the child's, unless it runs under a parent that never reaps it. */
  pid: number;
  /** Sends the data directory's default key. */
  client: GraphQLClient;
  apiKey: string | null;
  url: string;
  /** Peak resident memory of the process so far, in bytes (Linux VmHWM). */
  peakRss(): number;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  /** Its exit code once it has exited (null if by a signal); pending while it runs. */
  exited: Promise<number | null>;
  /** What it wrote so far: its log lines (stdout, the last ones), and its stderr when started with `captureStderr`. */
  output: { stdout: string[]; stderr: string[] };
}

/** Node's arguments in package.json's start script: the built service as `npm start` runs it (test/global-setup.ts builds it). */
export const SERVICE_ARGS: string[] = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(' && ')
  .at(-1)!
  .split(' ')
  .slice(1);

/** The service's environment: 127.0.0.1, a free port and the engine under test unless `env` says otherwise. */
function serviceEnv(dataDir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, HOST: '127.0.0.1', PORT: '0', SLUICE_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...engineEnv(dataDir), ...env };
}

/** How a test starts the service: `nodeArgs` such as --cpu-prof go to node; `checkout` is the built checkout it runs from. */
export interface StartOptions {
  nodeArgs?: string[];
  checkout?: string;
  /** Runs it under a parent that never reaps it (see spawnUnderNonReapingParent). */
  zombie?: boolean;
  /** Keeps its stderr in `output` instead of passing it through. */
  captureStderr?: boolean;
}

/** The service as `npm start` runs it; its stdout (the log) is piped. */
function spawnService(dataDir: string, env: Record<string, string>, options: StartOptions, stderr: 'inherit' | 'pipe'): ChildProcess {
  const { nodeArgs = [], checkout = root } = options;
  return spawn(process.execPath, [...nodeArgs, ...SERVICE_ARGS], { cwd: checkout, env: serviceEnv(dataDir, env), stdio: ['ignore', 'pipe', stderr] });
}

/**
 * A shell that starts the service in the background, says its pid, and then becomes `sleep`, which
 * never reaps it: once killed, the service stays a zombie (as under a supervisor slow to reap).
 */
function spawnUnderNonReapingParent(dataDir: string, env: Record<string, string>, options: StartOptions): ChildProcess {
  const { nodeArgs = [], checkout = root } = options;
  const command = [process.execPath, ...nodeArgs, ...SERVICE_ARGS].map((arg) => `'${arg}'`).join(' ');
  return spawn('sh', ['-c', `${command} & echo "{\\"servicePid\\":$!}"; exec sleep 600`], { cwd: checkout, env: serviceEnv(dataDir, env), stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The last `limit` lines a stream gives, kept as they come. */
function keptLines(stream: NodeJS.ReadableStream, limit = 2000): string[] {
  const lines: string[] = [];
  createInterface({ input: stream }).on('line', (line) => {
    lines.push(line);
    if (lines.length > limit) lines.shift();
  });
  return lines;
}

/**
 * Starts the service as `npm start` does, in its own process, on a free port. With `zombie`, `kill`
 * resolves (with null) once the service has died, and its parent stays until `child` is killed.
 */
export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServerProcess> {
  const zombie = options.zombie ?? false;
  const child = zombie ? spawnUnderNonReapingParent(dataDir, env, options) : spawnService(dataDir, env, options, options.captureStderr ? 'pipe' : 'inherit');
  const output = { stdout: keptLines(child.stdout!), stderr: child.stderr ? keptLines(child.stderr) : [] };
  let pid = child.pid!;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; servicePid?: number };
        if (entry.servicePid) pid = entry.servicePid;
        if (entry.msg === 'sluice is listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code} before listening\n${[...output.stdout, ...output.stderr].slice(-20).join('\n')}`)));
  });
  const apiKey = await defaultKey(dataDir);
  return {
    child,
    pid,
    client: new GraphQLClient(url, apiKey),
    apiKey,
    url,
    exited,
    output,
    peakRss() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async kill(signal) {
      if (!zombie) {
        child.kill(signal);
        return exited;
      }
      process.kill(pid, signal);
      while (processAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      return null;
    },
  };
}

/** Log lines of a process, parsed (a line that is not JSON is kept as its msg). */
export type LogLine = { level?: number; msg?: string; pid?: number };

/** Runs the service on `dataDir` until it exits by itself (killed after 30 s), with what it logged and wrote on stderr. */
export async function runServerToExit(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; lines: LogLine[]; stderr: string }> {
  const child = spawnService(dataDir, env, {}, 'pipe');
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
