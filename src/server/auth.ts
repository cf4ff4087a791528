import { Kind, type OperationDefinitionNode, OperationTypeNode, parse } from 'graphql';
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
 * The caller of an introspection-only query sent without a valid key: GraphiQL's schema fetch,
 * before its user has pasted a key. It belongs to no workspace; only meta-fields resolve for it.
 */
const INTROSPECTION_ONLY: Caller = { keyId: 'introspection-only', workspace: '' };

const META_FIELDS = new Set(['__schema', '__type', '__typename']);

/** The operations of `query`, or null when it does not parse. */
function operationsOf(query: string): OperationDefinitionNode[] | null {
  try {
    return parse(query, { noLocation: true }).definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  } catch {
    return null;
  }
}

/** A query whose root selections are all meta-fields (a fragment spread or inline fragment there is not). */
function isMetaQuery(operation: OperationDefinitionNode): boolean {
  return (
    operation.operation === OperationTypeNode.QUERY &&
    operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && META_FIELDS.has(selection.name.value))
  );
}

/** Whether `query` is pure introspection: every operation of it a query of meta-fields only. */
function isIntrospectionOnly(query: unknown): boolean {
  const operations = typeof query === 'string' ? operationsOf(query) : null;
  return !!operations?.length && operations.every(isMetaQuery);
}

function unauthenticated(fetchAPI: { Response: typeof Response }): Response {
  return errorResponse(fetchAPI, 401, 'UNAUTHENTICATED', 'a valid API key is required: send "Authorization: Bearer <key>"', {
    'www-authenticate': 'Bearer realm="sluice"',
  });
}

/**
 * A JSON POST: the only request whose body is read without a key. Never an upload: the upload
 * parser would replace the check below, and spool the file before any refusal.
 */
function isJsonPost(request: Request): boolean {
  return request.method === 'POST' && (request.headers.get('content-type')?.startsWith('application/json') ?? false);
}

/**
 * Yoga plugin: every GraphQL request needs a valid key, checked before its body is read (an upload
 * without one is never spooled); a missing or invalid key is a 401 with a GraphQL error body.
 * With `introspectionWithoutKey` (while GraphiQL is on), a JSON POST without a valid key is read
 * instead, and answered only if it is introspection alone, so that GraphiQL shows the schema
 * before its user has pasted a key; anything else still gets the 401.
 */
export function useApiKeys(auth: Authenticator, { introspectionWithoutKey = false } = {}): Plugin<Record<string, unknown>, CallerContext> {
  return {
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      const caller = await auth.fromAuthorization(request.headers.get('authorization'));
      if (caller) serverContext.caller = caller;
      else if (!introspectionWithoutKey || !isJsonPost(request)) endResponse(unauthenticated(fetchAPI));
    },
    onRequestParse({ serverContext, requestParser, setRequestParser, endResponse, fetchAPI }) {
      if (serverContext.caller) return;
      if (!requestParser) {
        endResponse(unauthenticated(fetchAPI));
        return;
      }
      // Wrapped by the body limit (a later plugin), so the body is read within it.
      setRequestParser(async (request) => {
        const params = await requestParser(request);
        if (Array.isArray(params) || !('query' in params) || !isIntrospectionOnly(params.query)) return unauthenticated(fetchAPI);
        serverContext.caller = INTROSPECTION_ONLY;
        return params;
      });
    },
  };
}
