import { hostname } from 'node:os';
import type { Coordination } from '../../ports/coordination';
import { processAlive } from '../shared/local-process';
import { DB_NOW_MS, type Pool } from './database';

/**
 * The instances serving one database, each a row of `instances` renewed on the heartbeat. Many
 * instances serve at once, so joining refuses no one. An instance holds its registration while its
 * row exists and was renewed within `staleMs` (on the database's clock): past that, it is dead to
 * the others, which remove its row and may void its leases; a renewal then fails, and the instance
 * must stop writing. Job leases still fence every write.
 */
export class PgCoordination implements Coordination {
  /** Any number of instances serve one database together. */
  readonly exclusive = false;
  /** The database's clock minus this host's, measured at each join and renewal. */
  private offsetMs = 0;
  private readonly host = hostname();

  constructor(
    private readonly pool: Pool,
    private readonly staleMs: number,
    readonly id: string,
  ) {}

  /** Registers this instance, and removes the rows of instances that stopped renewing (dead ones, which no one else may have swept yet). */
  async join(): Promise<void> {
    await this.sweep();
    await this.measured(
      `INSERT INTO instances (id, host, pid, started_at, seen_at) VALUES ($1, $2, $3, ${DB_NOW_MS}, ${DB_NOW_MS})
       ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at RETURNING seen_at AS db_now`,
      [this.id, this.host, process.pid],
    );
  }

  clock(): number {
    return Date.now() + this.offsetMs;
  }

  /** False when the row is gone (another instance declared this one dead) or lapsed: this instance was frozen past `staleMs`. */
  async renew(): Promise<boolean> {
    const renewed = await this.measured(
      `UPDATE instances SET seen_at = ${DB_NOW_MS} WHERE id = $1 AND seen_at >= ${DB_NOW_MS} - $2::bigint RETURNING seen_at AS db_now`,
      [this.id, this.staleMs],
    );
    if (!renewed) return false;
    await this.sweep();
    return true;
  }

  /** Runs a statement that returns the database's now (`db_now`), and takes the clock's offset from it (against the round trip's midpoint). */
  private async measured(sql: string, params: unknown[]): Promise<boolean> {
    const sent = Date.now();
    const { rows } = await this.pool.query<{ db_now: number }>(sql, params);
    if (rows.length === 0) return false;
    this.offsetMs = rows[0].db_now - Math.round((sent + Date.now()) / 2);
    return true;
  }

  holds(): Promise<boolean> {
    return this.isLive(this.id);
  }

  async isLive(instance: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM instances WHERE id = $1 AND seen_at >= ${DB_NOW_MS} - $2::bigint`, [instance, this.staleMs]);
    return rowCount === 1;
  }

  async leave(): Promise<void> {
    await this.pool.query('DELETE FROM instances WHERE id = $1', [this.id]);
  }

  /**
   * Declares dead the instances that have not renewed within `staleMs`, and those of this host whose
   * process is gone (a restart after a crash takes over their jobs at once): their rows go.
   */
  private async sweep(): Promise<void> {
    await this.pool.query(`DELETE FROM instances WHERE seen_at < ${DB_NOW_MS} - $1::bigint`, [this.staleMs]);
    const { rows } = await this.pool.query<{ id: string; pid: number }>('SELECT id, pid FROM instances WHERE host = $1 AND id <> $2', [this.host, this.id]);
    const dead = rows.filter((row) => !processAlive(row.pid)).map((row) => row.id);
    if (dead.length > 0) await this.pool.query('DELETE FROM instances WHERE id = ANY($1::text[])', [dead]);
  }
}
