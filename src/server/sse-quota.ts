import type { ServerResponse } from 'node:http';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ConnectionQuota } from '../auth/connection-quota';
import type { CallerContext } from './auth';
import { errorResponse } from './error-response';

function isEventStream(response: Response): boolean {
  return response.headers.get('content-type')?.toLowerCase().startsWith('text/event-stream') ?? false;
}

/** Runs `release` once the response's connection is closed, at once if it already is (the client left while the operation ran). */
function whenClosed(res: ServerResponse, release: () => void): void {
  if (res.closed) release();
  else res.once('close', release);
}

/**
 * Yoga plugin (after useApiKeys): a response that is an event stream takes one of its key's
 * connection slots until the connection closes; over the cap the answer is 429 instead. Decided on
 * the response Yoga built, not on the request's Accept header: Yoga streams a subscription when
 * Accept is missing, a wildcard, or `text/event-stream` in any case alike.
 */
export function useSseConnectionQuota(quota: ConnectionQuota): Plugin<Record<string, unknown>, CallerContext & { res: ServerResponse }> {
  // The subscription each response streams: a refused stream is never read, so it must be ended here.
  const sources = new WeakMap<Request, AsyncIterable<unknown>>();
  return {
    onResultProcess({ request, result }) {
      if (isAsyncIterable(result)) sources.set(request, result);
    },
    onResponse({ request, response, serverContext, setResponse, fetchAPI }) {
      if (!serverContext.caller || !isEventStream(response)) return;
      const release = quota.acquire(serverContext.caller.keyId);
      if (release) {
        whenClosed(serverContext.res, release);
        return;
      }
      void sources.get(request)?.[Symbol.asyncIterator]().return?.();
      setResponse(errorResponse(fetchAPI, 429, 'TOO_MANY_CONNECTIONS', 'this API key holds as many live connections as it may'));
    },
  };
}
