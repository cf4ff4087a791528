import { EventEmitter } from 'node:events';
import type { EventBus, JobChanged } from '../../ports/event-bus';

/** The embedded engine's events: in-process, since one process serves a data directory. */
export class InProcessEventBus implements EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish(event: JobChanged): Promise<void> {
    this.emitter.emit('job', event);
  }

  subscribe(listener: (event: JobChanged) => void): () => void {
    this.emitter.on('job', listener);
    return () => this.emitter.off('job', listener);
  }
}
