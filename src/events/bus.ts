import { EventEmitter } from 'node:events';
import type { Job } from '../jobs/model';

/** A committed change of a job, published by the registry after the commit. */
export interface JobChanged {
  job: Job;
  /** What changed: a status transition, or progress (counters, stage, heartbeat) within a status. */
  kind: 'created' | 'transition' | 'progress';
}

/** In-process pub/sub of registry events. Listeners must not throw and must not change jobs. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: JobChanged): void {
    this.emitter.emit('job', event);
  }

  private feeds = 0;

  /** Open subscription feeds (GraphQL subscriptions over WebSocket and SSE). */
  get feedCount(): number {
    return this.feeds;
  }

  /** Subscribes a client's feed: like subscribe, and counted while open. */
  openFeed(listener: (event: JobChanged) => void): () => void {
    const unsubscribe = this.subscribe(listener);
    this.feeds++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.feeds--;
      unsubscribe();
    };
  }

  subscribe(listener: (event: JobChanged) => void): () => void {
    this.emitter.on('job', listener);
    return () => this.emitter.off('job', listener);
  }
}
