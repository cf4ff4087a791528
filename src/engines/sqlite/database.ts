import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * The schema, one entry per version. A database is migrated forward on open by the main thread;
 * worker threads open the same file without migrating.
 */
const migrations: string[] = [
  `
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    name TEXT NOT NULL,
    columns TEXT,
    columns_job INTEGER, -- the job whose inference set the columns (NULL: given by the caller)
    row_count INTEGER NOT NULL DEFAULT 0,
    visible_from_row INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (workspace, name)
  );
  -- Rows of a dataset's table that are not visible: the range of a job still writing (to_row NULL)
  -- or of a job that failed or was cancelled (to_row set), until the purger deletes them.
  CREATE TABLE dataset_hidden_ranges (
    dataset_id INTEGER NOT NULL,
    job_num INTEGER NOT NULL,
    from_row INTEGER NOT NULL,
    to_row INTEGER,
    PRIMARY KEY (dataset_id, from_row)
  );
  CREATE TABLE jobs (
    num INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workspace TEXT NOT NULL,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_format TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    spool_path TEXT,
    options TEXT NOT NULL,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    total_rows INTEGER,
    rows_written INTEGER NOT NULL DEFAULT 0,
    rows_rejected INTEGER NOT NULL DEFAULT 0,
    bytes_read INTEGER NOT NULL DEFAULT 0,
    issue_errors INTEGER NOT NULL DEFAULT 0,
    issue_warnings INTEGER NOT NULL DEFAULT 0,
    messages TEXT NOT NULL DEFAULT '{}',
    error_code TEXT,
    error_message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    sequence INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    updated_at INTEGER NOT NULL,
    completed_at INTEGER,
    idempotency_key TEXT,
    UNIQUE (workspace, idempotency_key)
  );
  CREATE INDEX jobs_by_status ON jobs (status, num);
  CREATE INDEX jobs_by_workspace ON jobs (workspace, num);
  CREATE INDEX jobs_by_dataset ON jobs (dataset_id, num);
  CREATE TABLE job_issues (
    job_num INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    severity TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    row INTEGER,
    column_name TEXT,
    value TEXT,
    PRIMARY KEY (job_num, idx)
  ) WITHOUT ROWID;
  CREATE INDEX job_issues_by_severity ON job_issues (job_num, severity, idx);
  `,
  `
  CREATE TABLE workspace_signing_secrets (
    workspace TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_valid_until INTEGER
  );
  CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    disabled_at INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace);
  -- The webhook outbox: a row per event and destination, written with the job's transition.
  CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    job_num INTEGER NOT NULL,
    workspace TEXT NOT NULL,
    endpoint_id TEXT, -- NULL: the job's own webhookUrl, signed with the workspace's secret
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error TEXT,
    delivered_at INTEGER,
    next_attempt_at INTEGER,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
  CREATE INDEX webhook_deliveries_by_job ON webhook_deliveries (job_num);
  `,
  `
  -- The lease of a RUNNING job: the process that runs it, a token of this one claim (every write of
  -- the attempt is fenced by it), and when it lapses unless the heartbeat renews it.
  ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
  ALTER TABLE jobs ADD COLUMN lease_token TEXT;
  ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
  -- Where a resumed attempt picks up (JSON), committed with the rows and counters it accounts for.
  ALTER TABLE jobs ADD COLUMN checkpoint TEXT;
  -- The one process serving this data directory.
  CREATE TABLE instance_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
  );
  `,
  `
  -- API keys: the secret's SHA-256 only; a revoked key stays listed.
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace TEXT NOT NULL,
    name TEXT,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  `,
  `
  -- The running (or last) attempt: when it was claimed and how far the job was then, so that its rate
  -- and ETA count its own rows and bytes only; started_at keeps the job's first start.
  ALTER TABLE jobs ADD COLUMN attempt_started_at INTEGER;
  ALTER TABLE jobs ADD COLUMN attempt_start_rows INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN attempt_start_bytes INTEGER NOT NULL DEFAULT 0;
  -- Attempts in a row that were interrupted without advancing the checkpoint: what SLUICE_MAX_ATTEMPTS bounds.
  ALTER TABLE jobs ADD COLUMN fruitless_attempts INTEGER NOT NULL DEFAULT 0;
  UPDATE jobs SET attempt_started_at = started_at;
  `,
  `
  -- Spooled uploads are named by their path inside the data directory, so a directory moved while
  -- jobs wait keeps them (the spool has always held each job's upload as spool/<job id>).
  UPDATE jobs SET spool_path = 'spool/' || id WHERE spool_path IS NOT NULL;
  `,
  `
  -- A job names its upload by the blob store's key (the job's id; the file is spool/<key>).
  ALTER TABLE jobs RENAME COLUMN spool_path TO upload_key;
  UPDATE jobs SET upload_key = substr(upload_key, 7) WHERE upload_key LIKE 'spool/%';
  `,
  `
  -- The instance that runs, or last ran, the job: set by each claim, kept after the lease is dropped.
  ALTER TABLE jobs ADD COLUMN instance TEXT;
  UPDATE jobs SET instance = lease_owner;
  -- A cancel asked of a job running elsewhere: the instance running it sees the flag and ends the job.
  ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- The rejected rows a job kept for its rejected-rows file, with their cells as read (a JSON array
  -- of texts); row 0 holds the file's header names.
  CREATE TABLE job_rejected_rows (
    job_num INTEGER NOT NULL,
    row INTEGER NOT NULL,
    errors TEXT NOT NULL,
    cells TEXT NOT NULL,
    PRIMARY KEY (job_num, row)
  ) WITHOUT ROWID;
  -- Secrets of the deployment, made at their first use: the key that signs links.
  CREATE TABLE deployment_secrets (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  `
  -- A dataset a dry run named anew is provisional: not listed, not found by name, until a real job
  -- names it too. columns_job now means "set by that job and never published": a publish clears it.
  ALTER TABLE datasets ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
  UPDATE datasets SET columns_job = NULL WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.dataset_id = datasets.id AND jobs.status = 'COMPLETED');
  `,
];

export function openDatabase(path: string, options: { busyTimeoutMs: number; migrate: boolean }): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: options.busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  // WAL with synchronous=NORMAL is durable against process crashes; only an OS crash may lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if (options.migrate) migrate(db);
  return db;
}

/**
 * Runs `work` in a write transaction that takes the write lock up front (BEGIN IMMEDIATE). A deferred
 * transaction that reads before it writes fails at once with SQLITE_BUSY when another connection
 * committed in between, without waiting for the busy timeout.
 */
export function writeTransaction<T>(db: Db, work: () => T): T {
  return db.transaction(work).immediate();
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < migrations.length; version++) {
    writeTransaction(db, () => {
      db.exec(migrations[version]);
      db.pragma(`user_version = ${version + 1}`);
    });
  }
}
