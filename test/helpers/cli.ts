import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { type JobFieldsFragment, JobDocument } from '../generated/graphql';
import { engineEnv } from './engine';
import { PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv } from './files';
import { startServer, type TestServer } from './server';

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.mjs');

/** Runs the built `sluice` command line (what `npm run sluice --` runs) on a data directory (and the engine under test's storage of it). */
export function sluice(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, SLUICE_DATA_DIR: dataDir, ...engineEnv(dataDir) } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Creates a key for `workspace` with the command line and returns it. */
export async function createKey(dataDir: string, workspace: string): Promise<string> {
  const created = await sluice(dataDir, 'keys', 'create', '--workspace', workspace);
  if (created.code !== 0) throw new Error(`sluice keys create failed: ${created.stderr}`);
  return created.stdout.trim();
}

/** What a finished run of the command line printed, and its exit code (null when a signal ended it). */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A run of the command line as a client, still going: its output as it comes, its stdin, its end. */
export interface RunningCli {
  child: ChildProcess;
  /** stdout so far (on a terminal: everything the terminal showed, stderr included). */
  stdout(): string;
  /** Lines of stdout with when each arrived (ms since the start). */
  lines: Array<{ text: string; at: number }>;
  /** Resolves once stdout so far matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  write(text: string): void;
  exited: Promise<CliResult>;
}

export interface ClientOptions {
  /** Replaces the environment's SLUICE_KEY (null: none at all); the server's key by default. */
  key?: string | null;
  env?: Record<string, string>;
  /** Node options before the script (a preload, say). */
  nodeArgs?: string[];
  /** Runs it under a pseudo-terminal (util-linux `script`), so that stdin and stdout are terminals. */
  terminal?: boolean;
}

/**
 * Prints the process's peak resident memory at exit on stderr, as `peak-rss-kb <n>`: the VmHWM of
 * /proc/self/status, which counts from exec. (getrusage's maxRSS does not: Linux carries over the
 * forking parent's, the test runner's, into the child.)
 */
export const PEAK_RSS_PRELOAD = `data:text/javascript,import{readFileSync}from'node:fs';process.on('exit',()=>process.stderr.write('peak-rss-kb '+/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status','utf8'))[1]+'\\n'))`;

/** The client's environment: SLUICE_URL (the server's origin, as a person would give it) and SLUICE_KEY; the key never goes on the command line. */
function clientEnv(server: { url: string; apiKey: string | null }, options: ClientOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_URL: new URL(server.url).origin, ...options.env };
  delete env.SLUICE_KEY;
  const key = options.key === undefined ? server.apiKey : options.key;
  if (key !== null) env.SLUICE_KEY = key;
  return env;
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

function spawnClient(argv: string[], env: NodeJS.ProcessEnv, terminal: boolean): ChildProcess {
  if (!terminal) return spawn(process.execPath, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // `exec`: the command line is the terminal's foreground process itself, so a Ctrl-C typed reaches it alone.
  return spawn('script', ['-qfec', `exec ${[process.execPath, ...argv].map(quote).join(' ')}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Starts the built command line as a client of `server`. */
export function startSluiceClient(server: { url: string; apiKey: string | null }, args: string[], options: ClientOptions = {}): RunningCli {
  const started = Date.now();
  const child = spawnClient([...(options.nodeArgs ?? []), CLI, ...args], clientEnv(server, options), options.terminal ?? false);
  let stdout = '';
  let stderr = '';
  const lines: RunningCli['lines'] = [];
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const partial = stdout.slice(stdout.lastIndexOf('\n') + 1);
    stdout += chunk;
    lines.push(...(partial + chunk).split('\n').slice(0, -1).map((text) => ({ text, at: Date.now() - started })));
    for (const waiter of waiters) waiter();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    lines,
    write: (text) => child.stdin!.write(text),
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in: ${stdout.slice(-2000)}\nstderr: ${stderr}`)), timeoutMs);
        const check = () => pattern.test(stdout) && (clearTimeout(timer), waiters.delete(check), resolve());
        waiters.add(check);
        check();
        void exited.then(() => setTimeout(() => waiters.has(check) && reject(new Error(`exited before ${pattern}: ${stdout}\nstderr: ${stderr}`)), 0));
      });
    },
  };
}

/** Runs the built command line as a client of `server` to its end (stdin closed at once). */
export function sluiceClient(server: { url: string; apiKey: string | null }, args: string[], options: ClientOptions = {}): Promise<CliResult> {
  const run = startSluiceClient(server, args, options);
  run.child.stdin!.end();
  return run.exited;
}

/** The job id a successful ingest printed as its first line. */
export function jobIdOf(result: CliResult): string {
  expect(result.stdout).toMatch(/^job_\S+\n/);
  return result.stdout.split('\n')[0];
}

/** People lines (PERSON_HEADER's) with ids from `first`; in the rows `bad` picks, an email the EMAIL column rejects. */
export function peopleWithBadEmails(bad: (i: number) => boolean, first = 1): (i: number) => string {
  return (i) => {
    const id = first + i - 1;
    return bad(i) ? personLine(id).replace(`person${id}@example.com`, `person${id}`) : personLine(id);
  };
}

/** What a suite of command-line tests shares: a server, a directory of files to upload, and shortcuts to both. */
export interface CliSuite {
  server: TestServer;
  dir: string;
  /** A JSON file with PERSON_COLUMNS, for --columns. */
  columnsFile: string;
  peopleFile(name: string, rows: number, line?: (i: number) => string): Promise<string>;
  /** Runs the command line as a client of the suite's server. */
  sluice(args: string[], options?: ClientOptions): Promise<CliResult>;
  /** The job as the API has it. */
  apiJob(id: string): Promise<JobFieldsFragment>;
}

/** Starts a server and a file directory before the enclosing suite's tests, and removes both after them. */
export function cliSuite(): CliSuite {
  const suite = {
    async peopleFile(name: string, rows: number, line: (i: number) => string = personLine) {
      const path = join(suite.dir, name);
      await writeGeneratedCsv(path, PERSON_HEADER, rows, line);
      return path;
    },
    sluice: (args: string[], options?: ClientOptions) => sluiceClient(suite.server, args, options),
    apiJob: async (id: string) => (await suite.server.client.request(JobDocument, { id })).job as JobFieldsFragment,
  } as CliSuite;
  beforeAll(async () => {
    suite.server = await startServer();
    suite.dir = await tempDir();
    suite.columnsFile = join(suite.dir, 'columns.json');
    await writeFile(suite.columnsFile, JSON.stringify(PERSON_COLUMNS));
  });
  afterAll(async () => {
    await suite.server?.stop();
    if (suite.dir) await rm(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
