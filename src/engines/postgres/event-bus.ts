import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { EventBus, JobChanged } from '../../ports/event-bus';
import { DB_NOW_MS, openClient, type PostgresLocation } from './database';
import { type JobRow as PgJobRow, toJob } from '../shared/job-record';

/** NOTIFY channels are database-wide, not per schema: the payload names the schema, and a bus ignores other schemas' notices. */
const CHANNEL = 'sluice_jobs';
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;
/** How often the listening connection is checked (a round trip): what it heard is complete up to the last one that came back. */
const PING_MS = 1_000;
/** Re-read after a reconnect from this long before the last good round trip: instances' clocks agree with the database's to within it. */
const RESYNC_MARGIN_MS = 2_000;

/** A notification's payload: small (NOTIFY allows 8000 bytes), never the job itself. */
interface Notice {
  /** The schema the job lives in. */
  s: string;
  /** The job's num, its kind of change. */
  n: number;
  k: JobChanged['kind'];
  /** The publishing bus, and its count of publishes: a bus recognises its own notices. */
  o: string;
  t: number;
}

type Listener = (event: JobChanged) => void;

/** A notice, or null for a payload that is none (anyone may NOTIFY on the channel; a throw here would crash the process). */
function parseNotice(payload: string | undefined): Notice | null {
  try {
    const notice = JSON.parse(payload ?? '') as Notice;
    return typeof notice === 'object' && notice !== null && Number.isSafeInteger(notice.n) ? notice : null;
  } catch {
    return null;
  }
}

/**
 * Job changes over LISTEN/NOTIFY, so that every instance on the schema hears every publish, its own
 * included, in the order the notifications arrive. Another instance's notice is re-read from `jobs`
 * (the job as it is now, maybe past the change announced); this bus's own are delivered as
 * published. One dedicated connection listens (and publishes), checked every second; when it
 * drops, the bus reconnects with backoff and then re-reads every job that changed since the last
 * good check, so that its subscribers miss no state (a job's latest state, not every step between).
 */
export class PgEventBus implements EventBus {
  private readonly id = randomUUID();
  private readonly listeners = new Set<Listener>();
  /** This bus's publishes whose notice has not come back yet. */
  private readonly sent = new Map<number, JobChanged>();
  private published = 0;
  private client: pg.Client | null = null;
  /** The connection's queries, one at a time (pg 9 refuses a query while another runs). */
  private querying: Promise<unknown> = Promise.resolve();
  /** Deliveries, one after the other: a remote notice waits for its re-read, and those after it wait for it. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private ping: NodeJS.Timeout | null = null;
  /** The database's clock at the listening connection's last good round trip (null before the first connection). */
  private heardUpTo: number | null = null;

  constructor(
    private readonly location: PostgresLocation,
    private readonly instance: string,
  ) {}

  async open(): Promise<void> {
    this.closed = false;
    await this.connect();
    this.ping = setInterval(() => void this.check(), PING_MS);
    this.ping.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.ping) clearInterval(this.ping);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
    await this.queue;
  }

  /** Never fails: the change is committed whatever becomes of its notice; without a connection only this instance's subscribers hear it. */
  async publish(event: JobChanged): Promise<void> {
    const t = this.published++;
    const notice: Notice = { s: this.location.schema, n: event.job.num, k: event.kind, o: this.id, t };
    this.sent.set(t, event);
    try {
      await this.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(notice)]);
    } catch {
      this.deliverUnheard();
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private async connect(): Promise<void> {
    const client = await openClient(this.location, { role: 'listener', instance: this.instance });
    client.on('notification', (message) => this.heard(message.payload));
    client.on('error', () => this.dropped(client));
    client.on('end', () => this.dropped(client));
    try {
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    // Closed while connecting: the connection would outlive the bus and keep the process up.
    if (this.closed) await client.end().catch(() => {});
    else this.client = client;
    const missedSince = this.heardUpTo;
    await this.check();
    if (missedSince !== null) this.enqueue(() => this.changedSince(missedSince - RESYNC_MARGIN_MS));
  }

  /** A round trip on the listening connection: everything published before it has been heard. A failure means the connection is gone. */
  private async check(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const { rows } = await this.query<{ now: number }>(`SELECT ${DB_NOW_MS} AS now`, []);
      this.heardUpTo = rows[0].now;
    } catch {
      this.dropped(client);
    }
  }

  /** Every job changed since `since` (on the database's clock), as it is now: what the subscribers may have missed while disconnected. */
  private async changedSince(since: number): Promise<JobChanged[]> {
    const { rows } = await this.query<PgJobRow>('SELECT * FROM jobs WHERE updated_at >= $1 ORDER BY num', [since]);
    return rows.map((row) => {
      const job = toJob(row);
      return { job, kind: job.status === 'RUNNING' ? 'progress' : 'transition' };
    });
  }

  /** The connection is gone: its pending notices will never come, and it must be replaced. */
  private dropped(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
    this.deliverUnheard();
    if (!this.closed) this.reconnect(FIRST_RETRY_MS);
  }

  private reconnect(delayMs: number): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().catch(() => {
        if (!this.closed) this.reconnect(Math.min(delayMs * 2, MAX_RETRY_MS));
      });
    }, delayMs);
  }

  /** This bus's publishes whose notice will not come back (the connection failed): its own subscribers hear them anyway. */
  private deliverUnheard(): void {
    const unheard = [...this.sent.values()];
    this.sent.clear();
    for (const event of unheard) this.enqueue(async () => event);
  }

  private heard(payload: string | undefined): void {
    const notice = parseNotice(payload);
    if (notice?.s !== this.location.schema) return;
    if (notice.o !== this.id) return this.enqueue(() => this.reread(notice));
    const event = this.sent.get(notice.t);
    this.sent.delete(notice.t);
    if (event) this.enqueue(async () => event);
  }

  /** Another instance's change: the job as it is now, or nothing when it is gone (or the connection is). */
  private async reread(notice: Notice): Promise<JobChanged | null> {
    const { rows } = await this.query<PgJobRow>('SELECT * FROM jobs WHERE num = $1', [notice.n]);
    return rows[0] ? { job: toJob(rows[0]), kind: notice.k } : null;
  }

  private query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    const run = this.querying.then(() => {
      if (!this.client) throw new Error('the event bus is not connected');
      return this.client.query<R>(sql, params);
    });
    this.querying = run.catch(() => {});
    return run;
  }

  private enqueue(events: () => Promise<JobChanged | JobChanged[] | null>): void {
    this.queue = this.queue.then(async () => {
      const changes = await events().catch(() => null);
      for (const change of [changes ?? []].flat()) this.deliver(change);
    });
  }

  private deliver(change: JobChanged): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // Listeners must not throw; one that does must not keep the others from hearing the change.
      }
    }
  }
}
