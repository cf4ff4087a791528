import type { IncomingMessage } from 'node:http';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { schema } from '../schema';
import { multipartBodyLimit, useStreamingUploads } from '../uploads/multipart';
import type { BlobStore } from '../ports/blob-store';
import { useNoIntrospection, useQueryLimits } from './armor';
import { useRequestBodyLimit } from './body-limit';
import { type Authenticator, type CallerContext, useApiKeys } from './auth';
import type { ConnectionQuota } from '../auth/connection-quota';
import type { GraphQLContext, Services } from './context';
import { useCsrfPrevention } from './csrf';
import { useGraphiQL } from './graphiql';
import { useSseConnectionQuota } from './sse-quota';

export type Yoga = YogaServerInstance<Record<string, unknown>, GraphQLContext>;

/**
 * A Yoga instance over the schema. Two serve the API: one for multipart uploads, whose body may be
 * as large as an upload, and one for everything else, whose body is parsed in memory and so is kept small.
 * `body.maxBytes` is the largest body, or with `uploads` the largest uploaded file (the body also
 * carries the operation, of up to maxRequestBytes).
 */
export function buildYoga(
  services: Services,
  log: Logger,
  body: { maxBytes: number; uploads?: BlobStore },
  access: { auth: Authenticator; quota: ConnectionQuota },
): Yoga {
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: false, // served by useGraphiQL, with its assets inline and a CSP
    batching: false,
    maxRequestBodySize: false, // enforced by useRequestBodyLimit (last plugin), more cheaply
    multipart: false, // uploads are streamed to the spool by useStreamingUploads instead of being buffered
    landingPage: false,
    logging: {
      // Yoga logs a few debug lines per request: only build them when they are written.
      debug: (...args) => {
        if (log.isLevelEnabled('debug')) log.debug(args.map(String).join(' '));
      },
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error({ detail: args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ') }, 'graphql error'),
    },
    maskedErrors: {
      // Yoga's masking (GraphQL errors raised on purpose pass, anything else becomes "Unexpected error."), never in dev mode, and logged.
      maskError: (error, message) => {
        const masked = maskError(error, message, false);
        if (masked !== error) log.error({ err: (error as { originalError?: unknown }).originalError ?? error }, 'unexpected error, masked for the client');
        return masked;
      },
    },
    // The caller was set by useApiKeys (HTTP) or by the WebSocket's connection_init (websocket.ts): never from an argument.
    context: ({ caller, req }: Record<string, unknown> & CallerContext & { req?: IncomingMessage }): GraphQLContext => {
      if (!caller) throw new Error('a GraphQL operation ran without an authenticated caller');
      // The server speaks plain HTTP; behind a proxy, SLUICE_PUBLIC_URL says how clients reach it.
      const origin = services.config.publicUrl ?? `http://${req?.headers.host ?? `${services.config.host}:${services.config.port}`}`;
      return { workspace: caller.workspace, services, origin };
    },
    plugins: [
      ...(services.config.graphiql ? [useGraphiQL('/graphql')] : []),
      // First of the checks: refuses before anything else looks at the request, and before any body is read.
      useCsrfPrevention(),
      // GraphiQL fetches the schema before its user has pasted a key.
      useApiKeys(access.auth, { introspectionWithoutKey: services.config.graphiql && services.config.introspection }),
      useSseConnectionQuota(access.quota),
      ...(body.uploads ? uploadPlugins(body.uploads, body.maxBytes, services.config.maxRequestBytes) : [useRequestBodyLimit(body.maxBytes)]),
      ...useQueryLimits(services.config.queryLimits),
      ...(services.config.introspection ? [] : useNoIntrospection()),
    ],
  });
}

/** Streaming uploads bounded per file, then the body limit (after every request parser, as it wraps theirs). */
function uploadPlugins(blobs: BlobStore, maxFileBytes: number, maxFieldBytes: number) {
  const limits = { fileBytes: maxFileBytes, fieldBytes: maxFieldBytes };
  return [useStreamingUploads(blobs, limits), useRequestBodyLimit(multipartBodyLimit(limits))];
}
