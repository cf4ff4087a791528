import { StorageFault } from '../../ports/errors';

// SQLSTATE classes that mean the storage failed, not the statement: 08 connection exception,
// 53 insufficient resources (disk full, out of memory, too many connections), 57 operator
// intervention (shutdown, cancel), 58 system error (I/O), XX internal error (corruption).
const FAULT_CLASSES = /^(08|53|57|58|XX)/;
// Of those, the ones that end the connection: 08, and the server's session terminated by an
// administrator (pg_terminate_backend), by a crash of another backend, or while it starts up.
const CONNECTION_LOST = /^(08|57P01|57P02|57P03)/;
// Failures of the connection itself, before or without a server response.
const CONNECTION_CODES = /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND)$/;
const CONNECTION_MESSAGES = /Connection terminated|Client has encountered a connection error|connection is closed/i;

/** A PostgreSQL storage failure as the ports' StorageFault; any other error unchanged. */
export function storageFaultOf(error: unknown): unknown {
  if (error instanceof StorageFault) return error;
  const { code, message = '' } = (error ?? {}) as { code?: unknown; message?: string };
  if (typeof code === 'string' && code.length === 5 && FAULT_CLASSES.test(code)) return new StorageFault(code, message, CONNECTION_LOST.test(code));
  if (typeof code === 'string' && CONNECTION_CODES.test(code)) return new StorageFault(code, message, true);
  if (code === undefined && CONNECTION_MESSAGES.test(message)) return new StorageFault('08006', message, true);
  return error;
}

/** Runs `work`, turning a PostgreSQL storage failure into a StorageFault. */
export async function asStorageFaults<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storageFaultOf(error);
  }
}
