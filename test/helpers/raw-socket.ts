import WebSocket from 'ws';

export interface RawSocket {
  socket: WebSocket;
  /** Every message the server sent, parsed. */
  messages: Array<{ type: string; id?: string; payload?: unknown }>;
  /** The close code and reason, once the connection is closed (by either side). */
  closed: Promise<{ code: number; reason: string }>;
  send(message: object): void;
  /** Resolves with the first message (already received or still to come) that matches. */
  next(match: (message: { type: string; id?: string; payload?: unknown }) => boolean): Promise<{ type: string; id?: string; payload?: unknown }>;
}

/** A graphql-transport-ws connection driven message by message, to see exactly what the server does with it. */
export async function openRawSocket(httpUrl: string): Promise<RawSocket> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: RawSocket['messages'] = [];
  const waiting: Array<() => void> = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiting.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    closed,
    send: (message) => socket.send(JSON.stringify(message)),
    async next(match) {
      for (;;) {
        const found = messages.find(match);
        if (found) return found;
        const outcome = await Promise.race([new Promise<'message'>((resolve) => waiting.push(() => resolve('message'))), closed]);
        if (outcome !== 'message') throw new Error(`the socket closed (${outcome.code} ${outcome.reason}) before the expected message`);
      }
    },
  };
}

/** The connection_init message carrying an API key. */
export function connectionInit(apiKey: string | null): object {
  return apiKey === null ? { type: 'connection_init' } : { type: 'connection_init', payload: { authorization: `Bearer ${apiKey}` } };
}
