import { StorageFault } from '../../ports/errors';

// SQLite result codes that mean the storage failed, not the statement: full, locked past the busy
// timeout, I/O errors, corruption, unopenable or read-only files.
const SQLITE_FAULTS = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|CORRUPT|NOTADB|CANTOPEN|READONLY|PROTOCOL)/;

/** A SQLite storage failure as the ports' StorageFault; any other error unchanged. */
export function storageFaultOf(error: unknown): unknown {
  const { code, message } = error as { code?: unknown; message?: string };
  return typeof code === 'string' && SQLITE_FAULTS.test(code) ? new StorageFault(code, message ?? code) : error;
}

/** Runs `work`, turning a SQLite storage failure into a StorageFault. */
export function asStorageFaults<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw storageFaultOf(error);
  }
}
