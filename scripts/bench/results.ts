import type { spread } from './stats';

/** How large each case is, and how often it runs. */
export interface Sizes {
  csvRows: number;
  bigCsvRows: number;
  xlsxRows: number;
  repeats: number;
  loadSeconds: number;
  subscribers: number;
  /** Rows of the file each job of the scale-out case ingests (the PostgreSQL fan-out cases' job too). */
  scaleRows: number;
  /** Small jobs measured one after the other in each round. */
  smallJobs: number;
}

/** What one run of the bench measured: every case's figures, summarized over its rounds. */
export interface Results {
  date: string;
  quick: boolean;
  sizes: Sizes;
  files: Record<string, { path: string; bytes: number; rows: number }>;
  csv: { sluice: ReturnType<typeof spread>; sqlite3: ReturnType<typeof spread>; csvParse: ReturnType<typeof spread> };
  /** The CSV ingested by `jobs` jobs at once into as many datasets on one server: all their rows/s. */
  sideBySide: { jobs: number; sluice: ReturnType<typeof spread> };
  /** Jobs of a `rows`-row CSV: upload sent → COMPLETED event on `jobProgress`, and → the `ingest` answer (ms, every job of every round). */
  smallJobs: { rows: number; eventMs: ReturnType<typeof spread>; answerMs: ReturnType<typeof spread> };
  bigCsv: { sluice: ReturnType<typeof spread> };
  xlsx: { sluice: ReturnType<typeof spread>; exceljs: ReturnType<typeof spread> };
  /** The server's peak RSS in each round (bytes): a peak is a noisy figure, so it is summarized like the others. */
  memory: { csv: ReturnType<typeof spread>; bigCsv: ReturnType<typeof spread> };
  polling: { sluice: ReturnType<typeof spread>; bareYoga: ReturnType<typeof spread>; p99Ms: number; whileIngesting: { p50Ms: number; p99Ms: number } };
  fanOut: { subscribers: number; ms: ReturnType<typeof spread> };
  /** A UNIQUE rule a later job declares on the big dataset: its check, the API meanwhile, and a concurrent ingest's end. */
  lateUnique: { seconds: ReturnType<typeof spread>; pollP99Ms: number; pollMaxMs: number; concurrent: string[] };
  /** The CSV into a new dataset keyed by id (APPEND), then as many rows over it, half changed (UPSERT): rows/s. */
  upsert: { append: ReturnType<typeof spread>; upsert: ReturnType<typeof spread> };
  /** The PostgreSQL engine, each case in a fresh schema of the bench's database. */
  postgres: {
    upsert: Results['upsert'];
    /** The CSV file through a server on PostgreSQL, and `psql \copy` into a table of the same columns and types (rows/s). */
    csv: { sluice: ReturnType<typeof spread>; psql: ReturnType<typeof spread> };
    /** That server's peak RSS in each round (bytes). */
    memory: ReturnType<typeof spread>;
    /** `job(id)` polling on a server on PostgreSQL (requests/s); `polling.sluice` is the same case on SQLite. */
    polling: ReturnType<typeof spread>;
    /** Completion → last terminal event (ms): every subscriber on the instance running the job, or spread over two API-only instances. */
    fanOut: { one: ReturnType<typeof spread>; across: ReturnType<typeof spread> };
    /** Aggregate rows/s of `jobs` jobs on one instance and on `instances` instances; the jobs each of those instances ran, per round. */
    scaleOut: { jobs: number; instances: number; maxConcurrentJobs: number; cores: number; one: ReturnType<typeof spread>; many: ReturnType<typeof spread>; jobsPerInstance: number[][] };
  };
}
