/**
 * The command line's exit codes. A script tells from them what to do next: 1 the job did not
 * complete (or the server failed the request), 2 fix the command, 3 fix the connection or key.
 */
export const EXIT = {
  ok: 0,
  /** The job ended FAILED or CANCELLED, or the server failed the request itself. */
  failed: 1,
  /** Bad arguments or input: the server's userErrors, an unknown job, an unreadable file. */
  usage: 2,
  /** The server cannot be reached, is not a Sluice server, refused the key, or is shutting down. */
  unreachable: 3,
  /** Ctrl-C without cancelling: the job goes on (128 + SIGINT, as shells report an interrupted command). */
  detached: 130,
} as const;

/** A failure to report as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** An id the workspace has no job by (another workspace's job answers the same). */
export function noSuchJob(id: string): CliError {
  return usageError(`no job ${id} in this workspace`);
}
