import type { Logger } from 'pino';
import type { BlobStore } from '../ports/blob-store';
import type { JobStore } from '../ports/job-store';

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
    private readonly blobs: BlobStore,
    private readonly timing: { retentionMs: number; intervalMs: number; clock: () => number },
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.timing.intervalMs);
    this.timer.unref();
    void this.sweep();
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    let deleted = 0;
    try {
      for (let count = JOBS_PER_STEP; count === JOBS_PER_STEP && this.timer; ) {
        const uploads = await this.jobs.deleteEnded(this.timing.clock() - this.timing.retentionMs, JOBS_PER_STEP);
        count = uploads.length;
        deleted += count;
        // Uploads kept after their job ended (SLUICE_KEEP_UPLOADS) go with the job.
        for (const key of uploads) if (key) void this.blobs.delete(key).catch((error) => this.log.warn({ err: error }, 'deleting a kept upload failed'));
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (deleted > 0) this.log.info({ deleted }, 'expired jobs deleted');
    } catch (error) {
      this.log.error({ err: error }, 'deleting expired jobs failed; retried at the next sweep');
    }
    this.sweeping = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
