import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { ListenError } from '../../src/server/listen';
import { tempDir } from '../helpers/files';
import { engineConfig, ownEntries } from '../helpers/engine';
import { runServerToExit } from '../helpers/process';
import { removeDataDir } from '../helpers/server';

describe('a port already in use', () => {
  let holder: Server;
  let port: number;
  let dataDir: string;
  beforeEach(async () => {
    holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    port = (holder.address() as AddressInfo).port;
    dataDir = await tempDir();
  });
  afterEach(async () => {
    holder.close();
    await removeDataDir(dataDir);
  });

  it('makes the service exit 1, saying so in one line on stderr, before anything is created in the data directory', async () => {
    const run = await runServerToExit(dataDir, { PORT: String(port) });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([`sluice: port ${port} on 127.0.0.1 is already in use by another process: stop it, or set PORT to another port`]);
    expect(ownEntries(await readdir(dataDir))).toEqual([]); // no key file, no database, no scratch space
    expect(run.lines.map((line) => line.msg)).not.toContain('sluice is listening');
  });

  it('taken after that check, fails start() with the same ListenError, and nothing else prints the error', async () => {
    const app = buildApp(loadConfig({}, { host: '127.0.0.1', port, dataDir, authEnabled: false, ...engineConfig(dataDir) }), createLogger('silent'));
    const consoleError = vi.spyOn(console, 'error');
    try {
      await expect(app.start()).rejects.toThrow(new ListenError(`port ${port} on 127.0.0.1 is already in use by another process: stop it, or set PORT to another port`));
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
      await app.stop();
    }
  });
});
