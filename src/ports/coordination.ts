/**
 * Which instances serve the storage. An instance joins before it serves (InstanceConflictError when
 * it may not), renews its hold on the heartbeat and leaves at a graceful stop; its `id` is the owner
 * of the leases of the attempts it runs.
 */
export interface Coordination {
  readonly id: string;
  /** True: one instance serves the storage at a time, and a second join is refused while it holds; false: any number serve it together. */
  readonly exclusive: boolean;
  join(): Promise<void>;
  /**
   * Now, in epoch milliseconds, on the storage's clock: leases, heartbeats and timestamps of every
   * instance are measured on it, so instances whose own clocks disagree still agree on what expired.
   */
  clock(): number;
  /** Renews this instance's hold; false when it has lost it (it was frozen past the staleness limit and another took over). */
  renew(): Promise<boolean>;
  /** Whether this instance still holds what it joined (a read: it renews nothing). */
  holds(): Promise<boolean>;
  /** Whether `instance` serves the storage now (a job whose lease it holds may be asked to stop); this one counts once joined. */
  isLive(instance: string): Promise<boolean>;
  leave(): Promise<void>;
}
