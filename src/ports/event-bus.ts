import type { Job } from '../jobs/model';

/** A committed change of a job, published by the registry after the commit. */
export interface JobChanged {
  job: Job;
  /**
   * What changed: a status transition, progress (counters, stage, heartbeat) within a status, or a
   * cancel asked of a running job (for the instance running it; the job's state is otherwise unchanged).
   */
  kind: 'created' | 'transition' | 'progress' | 'cancelRequested';
}

/**
 * Pub/sub of committed job changes: a change published by any instance serving the same storage
 * reaches the subscribers of every one (the embedded engine has one instance). Listeners must not
 * throw and must not change jobs.
 */
export interface EventBus {
  /** Publishes a change the store has committed. */
  publish(event: JobChanged): Promise<void>;
  /** Calls `listener` with every change from now on; returns what unsubscribes it. */
  subscribe(listener: (event: JobChanged) => void): () => void;
}
