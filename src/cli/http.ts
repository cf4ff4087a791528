import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Streamed as it is read, when a stream. */
  body?: string | Readable;
  signal?: AbortSignal;
}

/**
 * Sends a request with node:http and resolves with the response once its headers arrive. Not fetch
 * or undici: fetch kept a streamed body in memory until the answer came, and undici's WebAssembly
 * parser alone added 50 MB to the command line's resident memory.
 */
export function send(url: URL, { method, headers = {}, body, signal }: HttpRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, signal }, resolve);
    request.on('error', reject);
    if (body === undefined || typeof body === 'string') request.end(body);
    // A server may answer before it has read the whole body (a refusal): the answer wins, and the write then fails quietly.
    else pipeline(body, request).catch(reject);
  });
}
