import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { ConnectionQuota } from '../auth/connection-quota';
import { DEFAULT_WORKSPACE } from '../auth/first-key';
import type { Caller, SqliteApiKeyStore } from '../auth/sqlite-api-key-store';

/** The caller of every request while SLUICE_AUTH=off. */
const AUTH_OFF: Caller = { keyId: 'auth-off', workspace: DEFAULT_WORKSPACE };

/** What each request's server context carries once its key is checked; resolvers read the workspace from it. */
export interface CallerContext {
  caller?: Caller;
}

/** Resolves `Authorization: Bearer <key>` (an HTTP header, or the same field of a WebSocket's connection_init payload) to a caller. */
export class Authenticator {
  /** `keys` null: authentication is off and everyone is workspace `default`. */
  constructor(private readonly keys: SqliteApiKeyStore | null) {}

  fromAuthorization(value: unknown): Caller | null {
    if (!this.keys) return AUTH_OFF;
    if (typeof value !== 'string') return null;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(value);
    return bearer ? this.keys.authenticate(bearer[1]) : null;
  }

  /** A connection_init payload: `{ "authorization": "Bearer <key>" }` (any case of the field's name). */
  fromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Caller | null {
    const field = Object.keys(params ?? {}).find((name) => name.toLowerCase() === 'authorization');
    return this.fromAuthorization(field === undefined ? undefined : params![field]);
  }
}

function errorResponse(fetchAPI: { Response: typeof Response }, status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * Yoga plugin: every GraphQL request needs a valid key, checked before its body is read (an upload
 * without one is never spooled); a missing or invalid key is a 401 with a GraphQL error body. An SSE
 * stream also takes one of its key's connection slots until it closes.
 */
export function useApiKeys(auth: Authenticator, quota: ConnectionQuota): Plugin<Record<string, unknown>, CallerContext & { req: IncomingMessage; res: ServerResponse }> {
  return {
    onRequest({ request, serverContext, endResponse, fetchAPI }) {
      const caller = auth.fromAuthorization(request.headers.get('authorization'));
      if (!caller) {
        endResponse(
          errorResponse(fetchAPI, 401, 'UNAUTHENTICATED', 'a valid API key is required: send "Authorization: Bearer <key>"', {
            'www-authenticate': 'Bearer realm="sluice"',
          }),
        );
        return;
      }
      if (request.headers.get('accept')?.includes('text/event-stream')) {
        const release = quota.acquire(caller.keyId);
        if (!release) {
          endResponse(errorResponse(fetchAPI, 429, 'TOO_MANY_CONNECTIONS', 'this API key holds as many live connections as it may'));
          return;
        }
        serverContext.res.once('close', release);
      }
      serverContext.caller = caller;
    },
  };
}
