import { hostname } from 'node:os';
import { InstanceConflictError } from '../../ports/errors';
import type { Coordination } from '../../ports/coordination';
import { newInstanceId } from '../shared/instance-id';
import { processAlive } from '../shared/local-process';
import { type Db, writeTransaction } from './database';

/** Another live process serves the data directory. */
export class DataDirInUseError extends InstanceConflictError {}

interface Holder {
  owner: string;
  host: string;
  pid: number;
  seen_at: number;
}

/** Instances of this process that joined and have not left: a holder with this process's pid is one of them, or an earlier life of the process. */
const joinedHere = new Set<string>();

/**
 * One serving process per data directory: the embedded engine's events and upload spool are
 * in-process, so a second process refuses to start instead of sharing them. The holder renews its
 * row on the heartbeat; a holder is gone when its process is dead (same host) or it has not renewed
 * for `staleMs`. Job leases still fence every write, so even a holder wrongly declared gone (a
 * process frozen past `staleMs`) cannot write rows for a job another process took over.
 */
export class InstanceLock implements Coordination {
  readonly id = newInstanceId();
  /** The embedded engine's events and spool are in-process: one process serves a data directory. */
  readonly exclusive = true;
  private readonly host = hostname();

  constructor(
    private readonly db: Db,
    private readonly staleMs: number,
  ) {}

  /** One process on one machine: its own clock is the storage's. */
  clock(): number {
    return Date.now();
  }

  /** Takes the data directory, or throws DataDirInUseError naming the live holder. */
  async join(): Promise<void> {
    try {
      this.take(Date.now());
      joinedHere.add(this.id);
    } catch (error) {
      // Past the busy timeout: another process holds a write open (one frozen mid-write, say), and would block this one's every write.
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
      throw new DataDirInUseError('the database is locked by another process that has held a write open past SLUICE_SQLITE_BUSY_TIMEOUT_MS (one stopped or frozen mid-write?); stop it first, or give this process its own SLUICE_DATA_DIR');
    }
  }

  private take(now: number): void {
    writeTransaction(this.db, () => {
      const holder = this.db.prepare('SELECT owner, host, pid, seen_at FROM instance_lock WHERE id = 1').get() as Holder | undefined;
      if (holder && this.holderAlive(holder, now)) {
        throw new DataDirInUseError(
          `the data directory is in use by process ${holder.pid} on ${holder.host} (seen ${Math.round((now - holder.seen_at) / 1000)} s ago); ` +
            'stop it first, or give this process its own SLUICE_DATA_DIR',
        );
      }
      this.db
        .prepare('INSERT INTO instance_lock (id, owner, host, pid, seen_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, seen_at = excluded.seen_at')
        .run(this.id, this.host, process.pid, now);
    });
  }

  private holderAlive(holder: Holder, now: number): boolean {
    if (now - holder.seen_at > this.staleMs) return false;
    if (holder.host !== this.host) return true;
    // The same pid on this host is another instance of this process, or an earlier life of this very
    // process slot (a restarted container's pid 1), which holds nothing.
    if (holder.pid === process.pid) return holder.owner !== this.id && joinedHere.has(holder.owner);
    return processAlive(holder.pid);
  }

  /** Whether this process still holds the lock (a read: it renews nothing). */
  async holds(): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM instance_lock WHERE id = 1 AND owner = ?').get(this.id) !== undefined;
  }

  /** Renews the lock; false when another process has taken it (this one was frozen past `staleMs`). */
  async renew(): Promise<boolean> {
    return this.db.prepare('UPDATE instance_lock SET seen_at = ? WHERE id = 1 AND owner = ?').run(Date.now(), this.id).changes === 1;
  }

  /** Only the holder serves the data directory. */
  async isLive(instance: string): Promise<boolean> {
    const holder = this.db.prepare('SELECT owner, host, pid, seen_at FROM instance_lock WHERE id = 1').get() as Holder | undefined;
    if (holder?.owner !== instance) return false;
    return instance === this.id || this.holderAlive(holder, Date.now());
  }

  async leave(): Promise<void> {
    joinedHere.delete(this.id);
    this.db.prepare('DELETE FROM instance_lock WHERE id = 1 AND owner = ?').run(this.id);
  }
}
