import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { print } from 'graphql';
import { type Endpoint, resolveEndpoint, type ServerOptions } from './endpoint';
import { CliError, EXIT } from './errors';
import { send } from './http';
import { multipartBody } from './upload';

/** The largest page (`first`) the server gives. */
export const MAX_PAGE = 1000;

/** Multipart requests must carry it, or the server's CSRF prevention refuses them (src/server/csrf.ts). */
const CSRF_HEADERS = { 'x-graphql-yoga-csrf': '1' };

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

interface Answer<T> {
  data?: T | null;
  errors?: GraphQLError[];
}

/** The server's GraphQL API over HTTP, with the caller's key; failures become CliErrors with the right exit code. */
export class Api {
  constructor(readonly endpoint: Endpoint) {}

  /** The key as the server reads it: the Authorization header, or the same field of a WebSocket's connection_init. */
  get authorization(): Record<string, string> {
    return this.endpoint.key === null ? {} : { authorization: `Bearer ${this.endpoint.key}` };
  }

  request<T, V>(document: TypedDocumentNode<T, V>, variables: V, signal?: AbortSignal): Promise<T> {
    return this.post(JSON.stringify({ query: print(document), variables }), { 'content-type': 'application/json' }, signal);
  }

  /** Sends the operation as a multipart request with the file at `variables.input.file`, streamed from disk. */
  async upload<T, V extends { input: object }>(document: TypedDocumentNode<T, V>, variables: V, filePath: string): Promise<T> {
    const { body, headers } = await multipartBody(print(document), variables, filePath);
    return this.post(body, { ...headers, ...CSRF_HEADERS });
  }

  private async post<T>(body: string | Readable, headers: Record<string, string>, signal?: AbortSignal): Promise<T> {
    let response: IncomingMessage;
    try {
      response = await send(this.endpoint.http, { method: 'POST', body, headers: { ...headers, ...this.authorization }, signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new CliError(`cannot reach the server at ${this.endpoint.http}: ${(error as Error).message}`, EXIT.unreachable);
    }
    const answer = await readAnswer<T>(response, this.endpoint.http);
    if (answer.errors?.length) throw this.refusal(response.statusCode!, answer.errors);
    if (!answer.data) throw notGraphQL(response, this.endpoint.http);
    return answer.data;
  }

  /** A request the server answered with GraphQL errors: whose fault, and what to do. */
  private refusal(status: number, errors: GraphQLError[]): CliError {
    const code = errors[0].extensions?.code;
    const messages = errors.map((error) => error.message).join('; ');
    if (status === 401 || code === 'UNAUTHENTICATED') {
      const hint = this.endpoint.key === null ? 'no API key given: set SLUICE_KEY or use --key-file' : 'check SLUICE_KEY or --key-file';
      return new CliError(`the server refused the API key (${messages}); ${hint}`, EXIT.unreachable);
    }
    if (status === 503) return new CliError(`the server is unavailable (${code ?? status}): ${messages}`, EXIT.unreachable);
    if (status >= 500 || code === 'INTERNAL_SERVER_ERROR') return new CliError(`the server failed the request (${code ?? status}): ${messages}`, EXIT.failed);
    return new CliError(`the server refused the request${code ? ` (${code})` : ''}: ${messages}`, EXIT.usage);
  }
}

/** An Api for the server and key the command's options (or the environment) name. */
export async function connect(options: ServerOptions): Promise<Api> {
  return new Api(await resolveEndpoint(options));
}

async function readAnswer<T>(response: IncomingMessage, url: URL): Promise<Answer<T>> {
  try {
    const answer = JSON.parse(await text(response)) as Answer<T> | null;
    if (answer !== null && typeof answer === 'object' && ('data' in answer || Array.isArray(answer.errors))) return answer;
  } catch {
    // not JSON: said below
  }
  throw notGraphQL(response, url);
}

function notGraphQL(response: IncomingMessage, url: URL): CliError {
  const type = response.headers['content-type'] ?? 'no content type';
  return new CliError(`${url} did not answer as a Sluice server does (HTTP ${response.statusCode}, ${type}): check --url / SLUICE_URL`, EXIT.unreachable);
}
