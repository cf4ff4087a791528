import type { Plugin } from 'graphql-yoga';
import { DEFAULT_WORKSPACE } from '../auth/first-key';
import type { Caller } from '../auth/api-key';
import type { ApiKeyStore } from '../ports/key-store';
import { errorResponse } from './error-response';

/** The caller of every request while SLUICE_AUTH=off. */
const AUTH_OFF: Caller = { keyId: 'auth-off', workspace: DEFAULT_WORKSPACE };

/** What each request's server context carries once its key is checked; resolvers read the workspace from it. */
export interface CallerContext {
  caller?: Caller;
}

/** Resolves `Authorization: Bearer <key>` (an HTTP header, or the same field of a WebSocket's connection_init payload) to a caller. */
export class Authenticator {
  /** `keys` null: authentication is off and everyone is workspace `default`. */
  constructor(private readonly keys: ApiKeyStore | null) {}

  async fromAuthorization(value: unknown): Promise<Caller | null> {
    if (!this.keys) return AUTH_OFF;
    if (typeof value !== 'string') return null;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(value);
    return bearer ? this.keys.authenticate(bearer[1]) : null;
  }

  /** A connection_init payload: `{ "authorization": "Bearer <key>" }` (any case of the field's name). */
  fromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Promise<Caller | null> {
    const field = Object.keys(params ?? {}).find((name) => name.toLowerCase() === 'authorization');
    return this.fromAuthorization(field === undefined ? undefined : params![field]);
  }
}

/**
 * Yoga plugin: every GraphQL request needs a valid key, checked before its body is read (an upload
 * without one is never spooled); a missing or invalid key is a 401 with a GraphQL error body.
 */
export function useApiKeys(auth: Authenticator): Plugin<Record<string, unknown>, CallerContext> {
  return {
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      const caller = await auth.fromAuthorization(request.headers.get('authorization'));
      if (!caller) {
        endResponse(
          errorResponse(fetchAPI, 401, 'UNAUTHENTICATED', 'a valid API key is required: send "Authorization: Bearer <key>"', {
            'www-authenticate': 'Bearer realm="sluice"',
          }),
        );
        return;
      }
      serverContext.caller = caller;
    },
  };
}
