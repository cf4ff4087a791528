import { createGraphQLError, type Plugin } from 'graphql-yoga';

// Yoga's own request body limit (`maxRequestBodySize`), with the same checks, errors and place among
// the plugins, minus its cost on the common request: Yoga pipes every body through a counting
// TransformStream (a stream pipeline, an AbortController and a DOMException per request, a good part
// of a small query's time) even when a valid Content-Length below the limit was checked already. Node's
// HTTP parser delivers exactly Content-Length bytes, so such a body cannot outgrow the limit; only
// bodies without a Content-Length (chunked) are counted as they stream.

function tooLarge() {
  return createGraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
}

function invalidContentLength() {
  return createGraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
}

// Only a single non-negative integer is a valid Content-Length (not "-1", "1, 1" or "abc").
const CONTENT_LENGTH = /^\d+$/;

/** The body, counted as it streams: the parser reading it fails with 413 past `limit` bytes. */
function countedBody(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  const body = request.body;
  if (!body) return request;
  // A native ReadableStream needs the native TransformStream (graphql-yoga#4583), as in Yoga.
  const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let bytesRead = 0;
  const limited = body.pipeThrough(
    new Transform({
      transform(chunk: Uint8Array, controller) {
        bytesRead += chunk.byteLength;
        if (bytesRead > limit) {
          controller.error(tooLarge());
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body: limited, duplex: 'half' } as RequestInit);
}

/**
 * Must come after every plugin that sets a request parser (last among ours), like Yoga's, which is
 * turned off with `maxRequestBodySize: false`.
 */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength != null) {
        if (!CONTENT_LENGTH.test(contentLength)) throw invalidContentLength();
        if (Number(contentLength) > limit) throw tooLarge();
        return; // exactly Content-Length bytes will come: within the limit
      }
      if (requestParser == null || request.body == null) return;
      const parse = requestParser;
      setRequestParser((req) => parse(countedBody(req, limit, fetchAPI)));
    },
  };
}
