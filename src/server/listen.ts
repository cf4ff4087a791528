import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

/** The address the server was told to listen on cannot be had (in use, not permitted, not this machine's). */
export class ListenError extends Error {}

function describe(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use by another process: stop it, or set PORT to another port`;
  if (error.code === 'EACCES') return `no permission to listen on port ${port} on ${host}: set PORT to a port above 1023`;
  return `cannot listen on ${host}:${port}: ${error.message}`;
}

/** Starts `server` listening; rejects with a ListenError that says in one line what is wrong. */
export async function listen(server: Server, port: number, host: string): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw new ListenError(describe(error as NodeJS.ErrnoException, host, port));
  }
}

/**
 * Listens on `host:port` and lets go at once: run before anything is created, so that a start that
 * cannot listen leaves nothing behind. Port 0 (any free port) always can.
 */
export async function checkCanListen(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, port, host);
  await new Promise((resolve) => probe.close(resolve));
}
