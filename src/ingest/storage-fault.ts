import { IngestError } from './ingest-error';

// SQLite result codes that mean the storage failed, not the statement: full, locked past the busy
// timeout, I/O errors, corruption, unopenable or read-only files.
const SQLITE_FAULTS = /^SQLITE_(FULL|BUSY|LOCKED|IOERR|CORRUPT|NOTADB|CANTOPEN|READONLY|PROTOCOL)/;

/** Whether an error is a failure of the disk or the database (a system call, a SQLite fault) rather than of the file's content. */
export function isStorageFault(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && (SQLITE_FAULTS.test(code) || typeof syscall === 'string');
}

/** The job error for a storage fault: STORAGE_ERROR, saying what failed without paths or internals. */
export function storageError(error: unknown): IngestError {
  const { code } = error as { code: string };
  const what = code.startsWith('SQLITE_') ? `the database refused a write (${code})` : `reading the spooled upload failed (${code})`;
  return new IngestError('STORAGE_ERROR', `${what}; the dataset is unchanged and the job can be submitted again`);
}
