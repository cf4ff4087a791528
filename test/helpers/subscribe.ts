import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

export type Transport = 'ws' | 'sse';

/** What one subscription delivered, and how it ended. */
export interface Received<T> {
  events: Array<{ data: T; at: number }>;
  errors: unknown[];
  /** Resolves when the server completes the subscription (or it errors). */
  done: Promise<void>;
  completed: boolean;
  /** Ends the subscription from the client side. */
  stop(): void;
}

/** A real graphql-ws (WebSocket) or graphql-sse (distinct connections) client for the server at `url`, with an API key. */
export class SubscriptionClient {
  private readonly ws: Client | null;
  private readonly sse: ReturnType<typeof createSseClient> | null;

  /** `apiKey` goes in graphql-ws's connection_init payload, or in the Authorization header of SSE requests. */
  constructor(url: string, transport: Transport, apiKey: string | null = null) {
    const authorization: Record<string, string> = apiKey === null ? {} : { authorization: `Bearer ${apiKey}` };
    this.ws =
      transport === 'ws'
        ? createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams: authorization })
        : null;
    this.sse = transport === 'sse' ? createSseClient({ url, retryAttempts: 0, headers: authorization }) : null;
  }

  subscribe<T, V>(document: TypedDocumentNode<T, V>, variables: V): Received<T> {
    let settle!: () => void;
    const received: Received<T> = {
      events: [],
      errors: [],
      completed: false,
      done: new Promise<void>((resolve) => (settle = resolve)),
      stop: () => undefined,
    };
    const sink = {
      next: (result: { data?: unknown; errors?: unknown }) => {
        if (result.errors) received.errors.push(...(result.errors as unknown[]));
        if (result.data) received.events.push({ data: result.data as T, at: Date.now() });
      },
      error: (error: unknown) => {
        received.errors.push(...(Array.isArray(error) ? error : [error]));
        settle();
      },
      complete: () => {
        received.completed = true;
        settle();
      },
    };
    const payload = { query: print(document), variables: variables as Record<string, unknown> };
    received.stop = this.ws ? this.ws.subscribe(payload, sink) : this.sse!.subscribe(payload, sink);
    return received;
  }

  async dispose(): Promise<void> {
    await this.ws?.dispose();
    this.sse?.dispose();
  }
}
