import type pg from 'pg';
import { rowsTable, storageColumn } from './dataset-tables';

/** Rows a job writes before the first refresh of its table's statistics. */
const FIRST_REFRESH_ROWS = 10_000;

/**
 * The planner statistics of the columns an attempt looks rows up by (UNIQUE columns, the key),
 * refreshed when the attempt starts on a table that looks smaller than its rows, and each time the
 * table has doubled since: a table filled faster than autovacuum analyzes it looks empty to the
 * planner, which then scans all of it for every burst's lookup instead of using the index
 * (measured: 19k rows/s instead of 66k for 500,000 rows with a UNIQUE column, slower the more rows
 * there are; an UPSERT over 1M rows spent a third of a second per burst).
 */
export class PgTableStatistics {
  private readonly columns = new Set<number>();
  private rowsAtRefresh = 0;
  private rowsWritten = 0;

  constructor(
    private readonly db: pg.ClientBase,
    private readonly datasetId: number,
  ) {}

  /** Adds columns looked up by; `rows` is how many the table holds (at least), to refresh stale statistics at once. */
  async track(columnIndexes: readonly number[], rows: number): Promise<void> {
    columnIndexes.forEach((i) => this.columns.add(i));
    this.rowsAtRefresh = await this.estimatedRows();
    if (this.rowsAtRefresh < rows / 2) await this.refresh(rows);
  }

  /** Counts rows committed to the table, and refreshes the statistics once it has doubled. */
  async written(rows: number): Promise<void> {
    if (this.columns.size === 0) return;
    this.rowsWritten += rows;
    if (this.rowsWritten < Math.max(FIRST_REFRESH_ROWS, this.rowsAtRefresh)) return;
    await this.refresh(this.rowsAtRefresh + this.rowsWritten);
  }

  private async refresh(rows: number): Promise<void> {
    // SKIP_LOCKED: when autovacuum holds the table, it refreshes the statistics itself.
    await this.db.query(`ANALYZE (SKIP_LOCKED) ${rowsTable(this.datasetId)} (${[...this.columns].map(storageColumn).join(', ')})`);
    this.rowsAtRefresh = rows;
    this.rowsWritten = 0;
  }

  /** The planner's idea of the table's size: -1 (never analyzed) counts as empty. */
  private async estimatedRows(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(`SELECT GREATEST(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::regclass`, [rowsTable(this.datasetId)]);
    return rows[0]?.n ?? 0;
  }
}
