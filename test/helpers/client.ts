import { openAsBlob } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** An ingest's variables without the file, which travels as a multipart part instead. */
export type WithoutFile<V> = V extends { input: infer I } ? Omit<V, 'input'> & { input: Omit<I, 'file'> } : V;

/** The header a multipart upload carries so that the server's CSRF prevention lets it through. */
export const CSRF_HEADER = { 'x-graphql-yoga-csrf': '1' };

/** A GraphQL client over real HTTP: JSON requests, and multipart uploads streamed from disk, sent with an API key. */
export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly apiKey: string | null = null,
  ) {}

  /** The Authorization header of this client's key (none without a key). */
  get authorization(): Record<string, string> {
    return this.apiKey === null ? {} : { authorization: `Bearer ${this.apiKey}` };
  }

  async raw<T, V>(document: TypedDocumentNode<T, V>, variables?: V): Promise<GraphQLResponse<T>> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.authorization },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return { status: response.status, ...((await response.json()) as object) };
  }

  /** Runs an operation and fails on any GraphQL error. */
  async request<T, V>(document: TypedDocumentNode<T, V>, variables?: V): Promise<T> {
    const result = await this.raw(document, variables);
    if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data;
  }

  /**
   * Sends an operation as a GraphQL multipart request with `filePath` at `variables.input.file`,
   * following the spec: operations, map, then the file.
   */
  async upload<T, V extends { input: { file: unknown } }>(
    document: TypedDocumentNode<T, V>,
    variables: WithoutFile<V>,
    filePath: string,
    fileName = 'upload',
  ): Promise<GraphQLResponse<T>> {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: print(document), variables: { ...variables, input: { ...(variables as { input: object }).input, file: null } } }));
    form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.set('0', await openAsBlob(filePath), fileName);
    const response = await fetch(this.url, { method: 'POST', body: form, headers: { ...CSRF_HEADER, ...this.authorization } });
    return { status: response.status, ...((await response.json()) as object) };
  }
}
