import type { Logger } from 'pino';
import type { SqliteDatasetStore } from './sqlite-dataset-store';

const ROWS_PER_STEP = 2000;

/**
 * Deletes rows that can never become visible (abandoned by failed or cancelled jobs, superseded by
 * a REPLACE) in small steps, yielding to the event loop between them so the API stays responsive.
 */
export class RowPurger {
  private active = false;
  private stopped = false;

  constructor(
    private readonly datasets: SqliteDatasetStore,
    private readonly log: Logger,
  ) {}

  kick(): void {
    if (this.active || this.stopped) return;
    this.active = true;
    const step = () => {
      if (this.stopped) return;
      try {
        if (this.datasets.purgeStep(ROWS_PER_STEP) > 0) {
          setImmediate(step);
          return;
        }
      } catch (error) {
        this.log.error({ err: error }, 'purging hidden rows failed; retried on the next kick');
      }
      this.active = false;
    };
    setImmediate(step);
  }

  stop(): void {
    this.stopped = true;
  }
}
