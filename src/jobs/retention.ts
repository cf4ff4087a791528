import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { JobStore } from './store';

const JOBS_PER_STEP = 200;

/**
 * Deletes finished jobs, their issues and webhook deliveries once they are older than the retention
 * period (datasets and their rows stay). Runs periodically in small transactions, yielding to the
 * event loop between them, so it never holds up the API.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private sweeping = false;

  constructor(
    private readonly jobs: JobStore,
    private readonly retentionMs: number,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
    this.sweep();
  }

  private sweep(): void {
    if (this.sweeping) return;
    this.sweeping = true;
    let deleted = 0;
    const step = () => {
      try {
        const spoolPaths = this.jobs.deleteEnded(Date.now() - this.retentionMs, JOBS_PER_STEP);
        const count = spoolPaths.length;
        deleted += count;
        // Uploads kept after their job ended (SLUICE_KEEP_UPLOADS) go with the job.
        for (const path of spoolPaths) if (path) void rm(path, { force: true }).catch((error) => this.log.warn({ err: error }, 'deleting a kept upload failed'));
        if (count === JOBS_PER_STEP && this.timer) {
          setImmediate(step);
          return;
        }
        if (deleted > 0) this.log.info({ deleted }, 'expired jobs deleted');
      } catch (error) {
        this.log.error({ err: error }, 'deleting expired jobs failed; retried at the next sweep');
      }
      this.sweeping = false;
    };
    step();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
