import { GraphQLError } from 'graphql';

/** Seconds a client refused during a stop should wait before trying again (the restart, or another instance). */
const RETRY_AFTER_SECONDS = 5;

const MESSAGE = 'the server is shutting down and accepts no new uploads; retry shortly';

/**
 * Whether the server is draining for a graceful stop: new uploads are refused (HTTP 503, code
 * SHUTTING_DOWN) while running jobs reach a checkpoint; queries are still answered until sockets close.
 */
export class Draining {
  active = false;

  /** The GraphQL error an `ingest` call gets while draining. */
  static error(): GraphQLError {
    return new GraphQLError(MESSAGE, {
      extensions: { code: 'SHUTTING_DOWN', http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } } },
    });
  }

  /** The whole HTTP answer for an upload request refused before its body is read. */
  static response(): { status: number; headers: Record<string, string>; body: string } {
    return {
      status: 503,
      // No `connection: close`: Node discards the unread body, so a client still sending reads the answer instead of EPIPE.
      headers: { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_SECONDS) },
      body: JSON.stringify({ errors: [{ message: MESSAGE, extensions: { code: 'SHUTTING_DOWN' } }] }),
    };
  }
}
