import { resolve } from 'node:path';

/** Every limit and default of the service. Built once from the environment, then frozen. */
export interface Config {
  readonly host: string;
  readonly port: number;
  /**
   * Root of this instance's local state: with the embedded engine, all of it (the SQLite database and
   * the upload spool); with PostgreSQL, only scratch space (uploads arriving, copies being read).
   */
  readonly dataDir: string;
  /** PostgreSQL to serve from, shared by any number of instances; null: the embedded SQLite engine in the data directory. */
  readonly databaseUrl: string | null;
  /** The PostgreSQL schema holding Sluice's tables (several deployments can share one database). */
  readonly databaseSchema: string;
  /** Connections of an instance's pool (each running job's worker and the event listener open one more each). */
  readonly databasePoolSize: number;
  /** Whether this instance runs jobs and the background work (webhooks, purging, retention); false: it serves the API only. */
  readonly runJobs: boolean;
  /** Whether GET /metrics answers (Prometheus format, no key: expose it only where operators scrape). */
  readonly metricsEnabled: boolean;
  readonly logLevel: string;
  /** Jobs running at once; the rest wait PENDING in arrival order. */
  readonly maxConcurrentJobs: number;
  /**
   * Ingest threads started with the server and kept for the jobs, one job at a time each (so a small
   * job pays no thread start); a job beyond them gets a thread of its own. Defaults to maxConcurrentJobs.
   */
  readonly ingestWorkers: number;
  /** Valid rows written per transaction. */
  readonly batchRows: number;
  /** Progress is committed at most this often (and at every batch boundary after it). */
  readonly progressIntervalMs: number;
  /** A RUNNING job's updatedAt advances at least this often. */
  readonly heartbeatIntervalMs: number;
  /** A RUNNING job whose updatedAt is older than this is reported as stalled. */
  readonly stallThresholdMs: number;
  /**
   * How long a RUNNING job's lease lasts without renewal. The heartbeat renews it while the worker is
   * alive; a job whose lease lapses (a worker hung past the stall threshold) is taken back by the reaper.
   */
  readonly leaseMs: number;
  /** Interrupted attempts in a row without progress (crashes, lost leases) after which a job fails with INTERRUPTED. */
  readonly maxAttempts: number;
  /** At SIGTERM/SIGINT, how long running jobs get to reach a checkpoint and webhook attempts to finish. */
  readonly shutdownGraceMs: number;
  /** Keep spooled uploads after their job ended (for audits); they are deleted with the job at retention. */
  readonly keepUploads: boolean;
  /** Rows read before the columns are inferred, when the caller gave none. */
  readonly inferSampleRows: number;
  /** How long cancelJob waits for a running job to stop at a batch boundary before it is stopped hard. */
  readonly cancelTimeoutMs: number;
  /** Subscription events per job and second, at most; the latest state wins, terminal states always go. */
  readonly subscriptionEventsPerSecond: number;
  /** How often WebSocket clients are pinged; one that does not answer before the next ping is dropped. */
  readonly websocketKeepAliveMs: number;
  /** How long one webhook attempt may take. */
  readonly webhookTimeoutMs: number;
  /** Delays before each webhook retry (attempts = retries + 1). */
  readonly webhookRetryDelaysMs: readonly number[];
  /** Whether webhooks may go to loopback, private and other internal addresses (development, tests). */
  readonly webhookAllowPrivate: boolean;
  /** Hosts (names or addresses) webhooks may reach whatever they resolve to. */
  readonly webhookAllowedHosts: readonly string[];
  /** How long the previous signing secret keeps signing after a rotation. */
  readonly webhookSecretOverlapMs: number;
  /** Whether requests need an API key. Off only for local development: every caller is then workspace `default`. */
  readonly authEnabled: boolean;
  /** Largest uploaded file; a larger one is answered 413 and nothing of it is kept. */
  readonly maxUploadBytes: number;
  /** Largest body of any other request (JSON queries and mutations), which is parsed in memory. */
  readonly maxRequestBytes: number;
  /** Largest CSV record; a longer one (an unclosed quote, say) fails the job with RECORD_TOO_LARGE instead of filling memory. */
  readonly maxRecordBytes: number;
  /** How long finished jobs (with their issues and webhook deliveries) are kept; datasets are kept. */
  readonly jobRetentionMs: number;
  /** How long a link to a job's rejected-rows file (`Job.rejectedRowsUrl`) works. */
  readonly rejectedRowsLinkTtlMs: number;
  /**
   * The server's address as clients reach it (through a proxy, say), for the links it mints; null:
   * the address each request came to.
   */
  readonly publicUrl: string | null;
  /** How often expired jobs are looked for. */
  readonly cleanupIntervalMs: number;
  /** How long a SQLite statement waits for a lock held by another connection. */
  readonly sqliteBusyTimeoutMs: number;
  /** Largest WebSocket message. */
  readonly websocketMaxPayloadBytes: number;
  /** How long a WebSocket may stay open without a `connection_init` (closed with 4408). */
  readonly connectionInitWaitTimeoutMs: number;
  /** Subscriptions one WebSocket connection may hold at once. */
  readonly maxSubscriptionsPerConnection: number;
  /** Live connections (WebSockets and SSE streams) one API key may hold at once. */
  readonly maxConnectionsPerKey: number;
  /**
   * GraphQL document limits (graphql-armor): selection depth, aliases, cost, tokens, directives; and
   * the items (page sizes summed) one execution may ask for, which catches pages sized by variables.
   */
  readonly queryLimits: {
    readonly depth: number;
    readonly aliases: number;
    readonly cost: number;
    readonly tokens: number;
    readonly directives: number;
    readonly items: number;
  };
  /** Whether the schema can be introspected, and GraphiQL served: on in development, off when NODE_ENV=production. */
  readonly introspection: boolean;
  readonly graphiql: boolean;
  /**
   * What an XLSX file's zip directory may declare, checked before anything is inflated (FILE_REJECTED
   * beyond it): entries, bytes of one entry and of all once inflated, and how many times its compressed
   * size an entry of 1 MiB or more may inflate to (real sheet XML 10-100x, a deflate bomb about 1000x).
   */
  readonly zipLimits: { readonly maxEntries: number; readonly maxEntryBytes: number; readonly maxTotalBytes: number; readonly maxRatio: number };
  /** How long one attempt of a job may read, validate and write its file; a longer one is stopped and fails with PARSE_TIMEOUT. */
  readonly parseTimeLimitMs: number;
  /** Columns of a file's rows and of a dataset (SQLite allows 2000 per table, one is the row number); a wider file fails with TOO_MANY_COLUMNS. */
  readonly maxColumns: number;
  /**
   * Issue details stored per row and per job; past them issues are still counted (issueCounts,
   * rowsRejected) but not stored, so that a file of blank cells cannot fill the disk with issues.
   */
  readonly issueLimits: IssueLimits;
  /** What one workspace may have at once: uploads of its pending and running jobs (bytes), such jobs, and webhook endpoints. */
  readonly workspaceLimits: WorkspaceLimits;
}

export interface IssueLimits {
  readonly perRow: number;
  readonly perJob: number;
  /** Rejected rows a job keeps, with their cells, for its rejected-rows file; past this, and past `rejectedBytes` of cells, they are only counted. */
  readonly rejectedRows: number;
  readonly rejectedBytes: number;
}

export interface WorkspaceLimits {
  readonly queuedBytes: number;
  readonly activeJobs: number;
  readonly webhookEndpoints: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === 'on') return true;
  if (raw === 'false' || raw === 'off') return false;
  throw new ConfigError(`${name} must be true/on or false/off, got "${raw}"`);
}

/** An http(s) origin with no path, as links are built on it; trailing slashes are dropped. */
function origin(env: Env, name: string): string | null {
  const raw = env[name]?.replace(/\/+$/, '');
  if (!raw) return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(`${name} must be the server's public origin, like https://sluice.example.com, got "${raw}"`);
  }
  return url.origin;
}

function delays(env: Env, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isInteger(value) || value < 0)) throw new ConfigError(`${name} must be a comma-separated list of milliseconds, got "${raw}"`);
  return values;
}

function queryLimits(env: Env): Config['queryLimits'] {
  return {
    depth: integer(env, 'SLUICE_MAX_QUERY_DEPTH', 12, 1, 1000),
    aliases: integer(env, 'SLUICE_MAX_QUERY_ALIASES', 15, 0, 1000),
    cost: integer(env, 'SLUICE_MAX_QUERY_COST', 100_000, 1, 10_000_000),
    tokens: integer(env, 'SLUICE_MAX_QUERY_TOKENS', 2000, 10, 1_000_000),
    directives: integer(env, 'SLUICE_MAX_QUERY_DIRECTIVES', 20, 0, 1000),
    items: integer(env, 'SLUICE_MAX_QUERY_ITEMS', 20_000, 1, 10_000_000),
  };
}

function zipLimits(env: Env): Config['zipLimits'] {
  return {
    maxEntries: integer(env, 'SLUICE_XLSX_MAX_ENTRIES', 10_000, 1, 1_000_000),
    maxEntryBytes: integer(env, 'SLUICE_XLSX_MAX_ENTRY_BYTES', 16 * 1024 ** 3, 1024),
    maxTotalBytes: integer(env, 'SLUICE_XLSX_MAX_TOTAL_BYTES', 32 * 1024 ** 3, 1024),
    maxRatio: integer(env, 'SLUICE_XLSX_MAX_RATIO', 200, 1),
  };
}

function issueLimits(env: Env): IssueLimits {
  return {
    perRow: integer(env, 'SLUICE_MAX_ISSUES_PER_ROW', 20, 1, 10_000),
    perJob: integer(env, 'SLUICE_MAX_ISSUES_PER_JOB', 10_000, 0),
    rejectedRows: integer(env, 'SLUICE_MAX_REJECTED_ROWS_PER_JOB', 10_000, 0),
    rejectedBytes: integer(env, 'SLUICE_MAX_REJECTED_BYTES_PER_JOB', 64 * 1024 ** 2, 0),
  };
}

function workspaceLimits(env: Env): WorkspaceLimits {
  return {
    queuedBytes: integer(env, 'SLUICE_MAX_QUEUED_BYTES_PER_WORKSPACE', 10 * 1024 ** 3, 1),
    activeJobs: integer(env, 'SLUICE_MAX_ACTIVE_JOBS_PER_WORKSPACE', 1000, 1),
    webhookEndpoints: integer(env, 'SLUICE_MAX_WEBHOOK_ENDPOINTS_PER_WORKSPACE', 100, 0),
  };
}

/** The configuration the environment gives (defaults where it is silent); `overrides` win over both. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const development = env.NODE_ENV !== 'production';
  const maxConcurrentJobs = overrides.maxConcurrentJobs ?? integer(env, 'SLUICE_MAX_CONCURRENT_JOBS', 2, 1, 64);
  const config: Config = {
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 4000, 0, 65535),
    dataDir: resolve(env.SLUICE_DATA_DIR || './data'),
    databaseUrl: env.SLUICE_DATABASE_URL || null,
    databaseSchema: env.SLUICE_DATABASE_SCHEMA || 'public',
    databasePoolSize: integer(env, 'SLUICE_DATABASE_POOL_SIZE', 10, 1, 1000),
    runJobs: boolean(env, 'SLUICE_RUN_JOBS', true),
    metricsEnabled: boolean(env, 'SLUICE_METRICS', true),
    logLevel: env.LOG_LEVEL || 'info',
    maxConcurrentJobs,
    ingestWorkers: integer(env, 'SLUICE_INGEST_WORKERS', maxConcurrentJobs, 0, 64),
    batchRows: integer(env, 'SLUICE_BATCH_ROWS', 5000, 1, 100_000),
    progressIntervalMs: integer(env, 'SLUICE_PROGRESS_INTERVAL_MS', 250, 10, 60_000),
    heartbeatIntervalMs: integer(env, 'SLUICE_HEARTBEAT_INTERVAL_MS', 1000, 50, 60_000),
    stallThresholdMs: integer(env, 'SLUICE_STALL_THRESHOLD_MS', 30_000, 100),
    leaseMs: integer(env, 'SLUICE_LEASE_MS', 60_000, 1000),
    maxAttempts: integer(env, 'SLUICE_MAX_ATTEMPTS', 3, 1, 100),
    shutdownGraceMs: integer(env, 'SLUICE_SHUTDOWN_GRACE_MS', 20_000, 0, 3_600_000),
    keepUploads: env.SLUICE_KEEP_UPLOADS === 'true',
    inferSampleRows: integer(env, 'SLUICE_INFER_SAMPLE_ROWS', 1000, 1, 1_000_000),
    cancelTimeoutMs: integer(env, 'SLUICE_CANCEL_TIMEOUT_MS', 5000, 10, 600_000),
    subscriptionEventsPerSecond: integer(env, 'SLUICE_SUBSCRIPTION_EVENTS_PER_SECOND', 10, 1, 1000),
    websocketKeepAliveMs: integer(env, 'SLUICE_WEBSOCKET_KEEPALIVE_MS', 12_000, 100),
    webhookTimeoutMs: integer(env, 'SLUICE_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookRetryDelaysMs: delays(env, 'SLUICE_WEBHOOK_RETRY_DELAYS_MS', [5_000, 60_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]),
    webhookAllowPrivate: env.SLUICE_WEBHOOK_ALLOW_PRIVATE === 'true',
    webhookAllowedHosts: (env.SLUICE_WEBHOOK_ALLOWED_HOSTS ?? '').split(',').map((host) => host.trim()).filter(Boolean),
    webhookSecretOverlapMs: integer(env, 'SLUICE_WEBHOOK_SECRET_OVERLAP_MS', 86_400_000, 0),
    authEnabled: boolean(env, 'SLUICE_AUTH', true),
    maxUploadBytes: integer(env, 'SLUICE_MAX_UPLOAD_BYTES', 1024 ** 3, 1024),
    maxRequestBytes: integer(env, 'SLUICE_MAX_REQUEST_BYTES', 1024 ** 2, 1024),
    maxRecordBytes: integer(env, 'SLUICE_MAX_RECORD_BYTES', 1024 ** 2, 1024),
    jobRetentionMs: integer(env, 'SLUICE_JOB_RETENTION_MS', 7 * 86_400_000, 0),
    rejectedRowsLinkTtlMs: integer(env, 'SLUICE_REJECTED_ROWS_LINK_TTL_MS', 3_600_000, 1000),
    publicUrl: origin(env, 'SLUICE_PUBLIC_URL'),
    cleanupIntervalMs: integer(env, 'SLUICE_CLEANUP_INTERVAL_MS', 60_000, 10),
    sqliteBusyTimeoutMs: integer(env, 'SLUICE_SQLITE_BUSY_TIMEOUT_MS', 5000, 0, 600_000),
    websocketMaxPayloadBytes: integer(env, 'SLUICE_WEBSOCKET_MAX_PAYLOAD_BYTES', 64 * 1024, 1024),
    connectionInitWaitTimeoutMs: integer(env, 'SLUICE_CONNECTION_INIT_TIMEOUT_MS', 3000, 10, 600_000),
    maxSubscriptionsPerConnection: integer(env, 'SLUICE_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 100_000),
    maxConnectionsPerKey: integer(env, 'SLUICE_MAX_CONNECTIONS_PER_KEY', 100, 1, 1_000_000),
    queryLimits: queryLimits(env),
    introspection: boolean(env, 'SLUICE_INTROSPECTION', development),
    graphiql: boolean(env, 'SLUICE_GRAPHIQL', development),
    zipLimits: zipLimits(env),
    parseTimeLimitMs: integer(env, 'SLUICE_PARSE_TIME_LIMIT_MS', 3_600_000, 100),
    maxColumns: integer(env, 'SLUICE_MAX_COLUMNS', 1000, 1, 1999),
    issueLimits: issueLimits(env),
    workspaceLimits: workspaceLimits(env),
    ...overrides,
  };
  if (config.leaseMs <= 2 * config.heartbeatIntervalMs) {
    throw new ConfigError(`SLUICE_LEASE_MS (${config.leaseMs}) must be more than twice SLUICE_HEARTBEAT_INTERVAL_MS (${config.heartbeatIntervalMs})`);
  }
  return Object.freeze(config);
}
