import { StorageFault } from '../ports/errors';
import { IngestError } from './ingest-error';

/** Whether an error is a failure of the engine's storage or of the disk (a system call) rather than of the file's content. */
export function isStorageFault(error: unknown): boolean {
  if (error instanceof StorageFault) return true;
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && typeof syscall === 'string';
}

/** The job error for a storage fault: STORAGE_ERROR, saying what failed without paths or internals. */
export function storageError(error: unknown): IngestError {
  const { code } = error as { code: string };
  const what = error instanceof StorageFault ? `the database refused a write (${code})` : `reading the spooled upload failed (${code})`;
  return new IngestError('STORAGE_ERROR', `${what}; the dataset is unchanged and the job can be submitted again`);
}
