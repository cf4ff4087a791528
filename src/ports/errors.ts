/** An attempt's write found that it no longer holds its job's lease: nothing of that write happened. */
export class LeaseLostError extends Error {
  constructor() {
    super('the attempt no longer holds the lease of its job');
  }
}

/** Another live process (or instance) holds what this one needs to start; the message says who and what to do. */
export class InstanceConflictError extends Error {}
