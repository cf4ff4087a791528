import type { Server } from 'node:http';
import type { DocumentNode, ExecutionArgs, GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { Context, SubscribePayload } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ConnectionQuota } from '../auth/connection-quota';
import type { Caller } from '../auth/api-key';
import type { Authenticator } from './auth';
import type { Yoga } from './yoga';

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** What a connection learns at connection_init: who it is, and the quota slot to give back when it closes. */
type ConnectionState = {
  caller?: Caller;
  release?: () => void;
};

export interface WebSocketLimits {
  keepAliveMs: number;
  maxPayloadBytes: number;
  connectionInitWaitTimeoutMs: number;
  maxSubscriptionsPerConnection: number;
}

/** Close code for a key over its connection quota (4429 mirrors HTTP 429 in graphql-ws's 4xxx range). */
export const TOO_MANY_CONNECTIONS = 4429;

type SocketContext = Context<Record<string, unknown>, Extra & Partial<ConnectionState>>;

/** connection_init: a valid API key with a free slot in its connection quota is let in. */
async function admitConnection(context: SocketContext, access: { auth: Authenticator; quota: ConnectionQuota }): Promise<boolean> {
  const caller = await access.auth.fromConnectionParams(context.connectionParams);
  if (!caller) return false;
  const release = access.quota.acquire(caller.keyId);
  if (!release) {
    // graphql-ws's own close (4403) after this one is ignored: the client sees why.
    context.extra.socket.close(TOO_MANY_CONNECTIONS, 'Too many connections for this API key');
    return false;
  }
  Object.assign(context.extra, { caller, release });
  return true;
}

/** Why a new subscription is refused (its key revoked, or its connection at the cap), or null when it is not. */
async function subscriptionRefusal(context: SocketContext, auth: Authenticator, maxSubscriptions: number): Promise<GraphQLError[] | null> {
  // graphql-ws has already registered this subscription; counted before anything awaits, so that
  // subscriptions sent together are counted one at a time.
  if (Object.keys(context.subscriptions).length > maxSubscriptions) {
    return [
      // Yoga's GraphQLError: graphql-ws recognises errors by the class of the graphql copy it imports.
      createGraphQLError(`at most ${maxSubscriptions} subscriptions per connection`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } }),
    ];
  }
  // A key revoked while the connection is open stops it at its next subscription.
  if (!(await auth.fromConnectionParams(context.connectionParams))) {
    context.extra.socket.close(4403, 'Forbidden');
    return [createGraphQLError('the API key is no longer valid', { extensions: { code: 'UNAUTHENTICATED' } })];
  }
  return null;
}

/** The operation run through Yoga's envelop, as HTTP requests are: its parse and validation errors, or what to execute. */
async function envelopedOperation(yoga: Yoga, context: SocketContext, params: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]> {
  const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
    ...context,
    req: context.extra.request,
    socket: context.extra.socket,
    caller: context.extra.caller,
    params,
  });
  let document: DocumentNode;
  try {
    document = parse(params.query);
  } catch (error) {
    return [error as GraphQLError]; // a syntax error fails this operation, not the connection
  }
  const args: ExecutionArgs = {
    schema,
    operationName: params.operationName,
    document,
    variableValues: params.variables,
    contextValue: await contextFactory(),
    rootValue: { execute, subscribe },
  };
  const errors = validate(args.schema, args.document);
  return errors.length > 0 ? errors : args;
}

/**
 * graphql-ws (protocol graphql-transport-ws) on the HTTP server's /graphql path. The API key comes in
 * connection_init (`{ authorization: "Bearer <key>" }`); graphql-ws closes a connection refused there
 * with 4403, one that subscribes before it is acknowledged with 4401, one that never initialises with
 * 4408. Every operation goes through Yoga's envelop, so subscriptions get the same plugins (document
 * limits included) and context as HTTP requests. Clients are pinged every `keepAliveMs`; one that does
 * not answer is dropped.
 */
export function attachWebSocket(server: Server, yoga: Yoga, access: { auth: Authenticator; quota: ConnectionQuota }, limits: WebSocketLimits): { close(): Promise<void> } {
  // Upgrades are handed over by hand: with ws's `server` option, the HTTP server's own errors (a
  // failed listen) are re-emitted here, and graphql-ws prints them as an internal error of its own.
  const sockets = new WebSocketServer({ noServer: true, path: '/graphql', maxPayload: limits.maxPayloadBytes });
  server.on('upgrade', (request, socket, head) => sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request)));
  const graphqlWs = useServer<Record<string, unknown>, ConnectionState>(
    {
      connectionInitWaitTimeout: limits.connectionInitWaitTimeoutMs,
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
      onConnect: (context) => admitConnection(context, access),
      onClose: (context) => context.extra.release?.(),
      onSubscribe: async (context, _id, params) =>
        (await subscriptionRefusal(context, access.auth, limits.maxSubscriptionsPerConnection)) ?? (await envelopedOperation(yoga, context, params)),
    },
    sockets,
    limits.keepAliveMs,
  );
  return {
    async close() {
      await graphqlWs.dispose(); // closes every client (1001) and the server
    },
  };
}
