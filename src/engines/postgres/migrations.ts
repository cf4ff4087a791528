/**
 * The PostgreSQL schema, one entry per version. Migrations run once, under an advisory lock, by
 * whichever instance starts first; a database of a newer version than this binary knows is refused.
 * Times are epoch milliseconds (bigint), as in the embedded engine.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE datasets (
    id bigserial PRIMARY KEY,
    workspace text NOT NULL,
    name text NOT NULL,
    columns jsonb,
    columns_job bigint, -- the job whose inference set the columns (NULL: given by the caller)
    row_count bigint NOT NULL DEFAULT 0,
    visible_from_row bigint NOT NULL DEFAULT 0,
    -- The next row number to give out: rows are numbered by the job that writes them, one job per
    -- dataset at a time, so a job's rows are one contiguous range (a rolled-back batch gives back nothing).
    next_row bigint NOT NULL DEFAULT 1,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (workspace, name)
  );
  CREATE TABLE dataset_hidden_ranges (
    dataset_id bigint NOT NULL REFERENCES datasets (id),
    job_num bigint NOT NULL,
    from_row bigint NOT NULL,
    to_row bigint,
    PRIMARY KEY (dataset_id, from_row)
  );
  CREATE TABLE jobs (
    num bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    workspace text NOT NULL,
    dataset_id bigint NOT NULL REFERENCES datasets (id),
    status text NOT NULL,
    stage text NOT NULL,
    file_name text NOT NULL,
    file_format text NOT NULL,
    file_size bigint NOT NULL,
    file_sha256 text NOT NULL,
    upload_key text,
    options jsonb NOT NULL,
    processed_rows bigint NOT NULL DEFAULT 0,
    total_rows bigint,
    rows_written bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    bytes_read bigint NOT NULL DEFAULT 0,
    issue_errors bigint NOT NULL DEFAULT 0,
    issue_warnings bigint NOT NULL DEFAULT 0,
    messages jsonb NOT NULL DEFAULT '{}',
    error_code text,
    error_message text,
    attempts integer NOT NULL DEFAULT 0,
    fruitless_attempts integer NOT NULL DEFAULT 0,
    sequence bigint NOT NULL DEFAULT 1,
    created_at bigint NOT NULL,
    started_at bigint,
    updated_at bigint NOT NULL,
    completed_at bigint,
    idempotency_key text,
    lease_owner text,
    instance text,
    cancel_requested boolean NOT NULL DEFAULT false,
    lease_token text,
    lease_expires_at bigint,
    checkpoint jsonb,
    attempt_started_at bigint,
    attempt_start_rows bigint NOT NULL DEFAULT 0,
    attempt_start_bytes bigint NOT NULL DEFAULT 0,
    UNIQUE (workspace, idempotency_key)
  );
  -- One running job per dataset, enforced by the database: a second claim of the dataset fails.
  CREATE UNIQUE INDEX jobs_one_running_per_dataset ON jobs (dataset_id) WHERE status = 'RUNNING';
  CREATE INDEX jobs_pending ON jobs (num) WHERE status = 'PENDING';
  CREATE INDEX jobs_by_workspace ON jobs (workspace, num);
  CREATE INDEX jobs_by_dataset ON jobs (dataset_id, num);
  CREATE INDEX jobs_ended ON jobs (completed_at) WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED');
  CREATE TABLE job_issues (
    job_num bigint NOT NULL,
    idx bigint NOT NULL,
    severity text NOT NULL,
    code text NOT NULL,
    message text NOT NULL,
    row bigint,
    column_name text,
    value text,
    PRIMARY KEY (job_num, idx)
  );
  CREATE INDEX job_issues_by_severity ON job_issues (job_num, severity, idx);
  CREATE TABLE workspace_signing_secrets (
    workspace text PRIMARY KEY,
    secret text NOT NULL,
    previous_secret text,
    previous_valid_until bigint
  );
  CREATE TABLE webhook_endpoints (
    id text PRIMARY KEY,
    workspace text NOT NULL,
    url text NOT NULL,
    events jsonb NOT NULL,
    secret text NOT NULL,
    disabled_at bigint,
    created_at bigint NOT NULL
  );
  CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace, created_at);
  CREATE TABLE webhook_deliveries (
    id text PRIMARY KEY,
    job_num bigint NOT NULL,
    workspace text NOT NULL,
    endpoint_id text,
    url text NOT NULL,
    event text NOT NULL,
    payload text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error text,
    delivered_at bigint,
    next_attempt_at bigint,
    created_at bigint NOT NULL,
    written bigserial -- the order rows were written in
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
  CREATE INDEX webhook_deliveries_by_job ON webhook_deliveries (job_num, written);
  CREATE TABLE api_keys (
    id text PRIMARY KEY,
    workspace text NOT NULL,
    name text,
    secret_hash text NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint
  );
  -- The instances serving this database: each renews its row on the heartbeat; one that stopped
  -- renewing is gone, and its leases are void.
  CREATE TABLE instances (
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at bigint NOT NULL,
    seen_at bigint NOT NULL
  );
  -- Uploads, in chunks, so that every instance can read every job's file without a shared disk.
  CREATE TABLE blobs (
    key text PRIMARY KEY,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE blob_chunks (
    key text NOT NULL REFERENCES blobs (key) ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (key, seq)
  );
  `,
  // Uploads are stored once and read once: pglz, the default compression, made storing a CSV upload
  // take five times as long as writing it (0.9 s for 50 MB on the bench machine, 0.2 s with lz4).
  // lz4 where the server has it (PostgreSQL 14 and later, built with it), else no compression.
  `
  DO $$
  BEGIN
    EXECUTE 'ALTER TABLE blob_chunks ALTER COLUMN data SET COMPRESSION lz4';
  EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
  END $$;
  `,
  `
  -- The rejected rows a job kept for its rejected-rows file, with their cells as read; row 0 holds
  -- the file's header names.
  CREATE TABLE job_rejected_rows (
    job_num bigint NOT NULL,
    row bigint NOT NULL,
    errors text NOT NULL,
    cells jsonb NOT NULL,
    PRIMARY KEY (job_num, row)
  );
  -- Secrets of the deployment, made at their first use by whichever instance comes first: the key that signs links.
  CREATE TABLE deployment_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL,
    created_at bigint NOT NULL
  );
  `,
  `
  -- A dataset a dry run named anew is provisional: not listed, not found by name, until a real job
  -- names it too. columns_job now means "set by that job and never published": a publish clears it.
  ALTER TABLE datasets ADD COLUMN provisional boolean NOT NULL DEFAULT false;
  UPDATE datasets SET columns_job = NULL WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.dataset_id = datasets.id AND jobs.status = 'COMPLETED');
  `,
];
