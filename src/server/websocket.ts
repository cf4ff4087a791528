import type { Server } from 'node:http';
import type { DocumentNode, ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Yoga } from './yoga';

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/**
 * graphql-ws (protocol graphql-transport-ws) on the HTTP server's /graphql path. Every operation
 * goes through Yoga's envelop, so subscriptions get the same plugins and context as HTTP requests.
 * Clients are pinged every `keepAliveMs`; one that does not answer is dropped.
 */
export function attachWebSocket(server: Server, yoga: Yoga, limits: { keepAliveMs: number; maxPayloadBytes: number }): { close(): Promise<void> } {
  // Messages are as bounded as HTTP request bodies.
  const sockets = new WebSocketServer({ server, path: '/graphql', maxPayload: limits.maxPayloadBytes });
  const graphqlWs = useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
      onSubscribe: async (context, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...context,
          req: context.extra.request,
          socket: context.extra.socket,
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
      },
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
