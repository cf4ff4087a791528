import type { EventBus, JobChanged } from '../ports/event-bus';

/** The subscription feeds open on the event bus (GraphQL subscriptions over WebSocket and SSE), counted for /health. */
export class Feeds {
  private open = 0;

  constructor(private readonly bus: EventBus) {}

  get count(): number {
    return this.open;
  }

  /** Subscribes a client's feed: counted while open; returns what closes it (once). */
  openFeed(listener: (event: JobChanged) => void): () => void {
    const unsubscribe = this.bus.subscribe(listener);
    this.open++;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.open--;
      unsubscribe();
    };
  }
}
