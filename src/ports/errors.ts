/** An attempt's write found that it no longer holds its job's lease: nothing of that write happened. */
export class LeaseLostError extends Error {
  constructor() {
    super('the attempt no longer holds the lease of its job');
  }
}

/** Another live process (or instance) holds what this one needs to start; the message says who and what to do. */
export class InstanceConflictError extends Error {}

/** The engine's storage cannot be served by this process (unreachable, refused, of a newer schema); the message says why and what to do. */
export class EngineOpenError extends Error {}

/**
 * The engine's storage failed, not the statement: the disk is full, the database is locked past its
 * timeout, unreachable, corrupt or read-only. Whatever step it interrupted wrote nothing.
 */
export class StorageFault extends Error {
  constructor(
    /** The engine's own code for the failure (SQLITE_FULL, say). */
    readonly code: string,
    message: string,
    /** The connection to the storage was lost (a server of its own): the same step may succeed on a new one. */
    readonly connectionLost = false,
  ) {
    super(message);
  }
}
