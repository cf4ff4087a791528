import type { Logger } from 'pino';
import type { DatasetStore } from '../ports/dataset-store';

const ROWS_PER_STEP = 2000;

/**
 * Deletes rows that can never become visible (abandoned by failed or cancelled jobs, superseded by
 * a REPLACE) in small steps, yielding to the event loop between them so the API stays responsive.
 */
export class RowPurger {
  private active = false;
  private stopped = false;

  constructor(
    private readonly datasets: DatasetStore,
    private readonly log: Logger,
  ) {}

  kick(): void {
    if (this.active || this.stopped) return;
    this.active = true;
    void this.purge().finally(() => (this.active = false));
  }

  private async purge(): Promise<void> {
    try {
      do await new Promise((resolve) => setImmediate(resolve));
      while (!this.stopped && (await this.datasets.purgeStep(ROWS_PER_STEP)) > 0);
    } catch (error) {
      this.log.error({ err: error }, 'purging hidden rows failed; retried on the next kick');
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
