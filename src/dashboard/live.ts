// Live updates over one WebSocket (graphql-ws) per tab, opened on the first subscription. The key
// goes in connection_init, as the server reads it there.
import { type Client, createClient } from 'graphql-ws';
import { useEffect, useState } from 'preact/hooks';
import { authorization, signalUnauthenticated } from './api';

/** The server closes a connection whose key it refuses with 4403. */
const FORBIDDEN = 4403;
const MAX_RETRY_WAIT_MS = 15_000;

export type Connection = 'connecting' | 'live' | 'offline';

let client: Client | null = null;
let connection: Connection = 'connecting';
const connectionListeners = new Set<(state: Connection) => void>();
const reconnectListeners = new Set<() => void>();

function socketUrl(): string {
  const url = new URL('graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  return url.href;
}

function refused(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { code?: unknown }).code === FORBIDDEN;
}

function setConnection(state: Connection): void {
  connection = state;
  for (const listener of connectionListeners) listener(state);
}

function connect(): Client {
  const created = createClient({
    url: socketUrl(),
    connectionParams: authorization,
    // Open while the page is: between subscriptions too, so the header's indicator tells whether updates can arrive.
    lazy: false,
    // A dashboard stays open for hours: it keeps trying, at most every MAX_RETRY_WAIT_MS.
    retryAttempts: Infinity,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, MAX_RETRY_WAIT_MS))),
    shouldRetry: (event) => !refused(event),
  });
  created.on('connected', (_socket, _payload, wasRetry) => {
    setConnection('live');
    // Changes made while the socket was down were not sent: whoever shows them reads them again.
    if (wasRetry) for (const listener of reconnectListeners) listener();
  });
  created.on('closed', (event) => {
    setConnection('offline');
    if (refused(event)) signalUnauthenticated();
  });
  return created;
}

/** Runs a subscription; `onData` gets each event's data. Returns what ends it. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void, onError: (message: string) => void): () => void {
  client ??= connect();
  return client.subscribe<T>(
    { query, variables },
    {
      next: ({ data }) => data && onData(data),
      error: (error) => onError(Array.isArray(error) ? error.map((e: Error) => e.message).join('; ') : 'live updates stopped'),
      complete: () => {},
    },
  );
}

/** Closes the socket (the key changed, or was refused): the next subscription opens a new one. */
export function disconnect(): void {
  void client?.dispose();
  client = null;
}

/** Calls `listener` after each reconnection; returns what removes it. */
export function onReconnect(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

/** The socket's state, for the header's indicator. */
export function useConnection(): Connection {
  const [state, setState] = useState(connection);
  useEffect(() => {
    connectionListeners.add(setState);
    return () => void connectionListeners.delete(setState);
  }, []);
  return state;
}
