import type { Command } from 'commander';
import type { Api } from './api';
import { EXIT, usageError } from './errors';
import { JobFollower } from './follow';
import { CancelJobDocument, type JobStateFragment } from './generated';
import { chooseOnInterrupt } from './interrupt';
import { printOutcome } from './outcome';
import { type ProgressView, progressView } from './progress';

export interface WatchOptions {
  watch?: boolean;
  cancelOnInterrupt?: boolean;
}

export function withWatchOptions(command: Command): Command {
  return command
    .option('--watch', 'follow the job to its end (a bar on a terminal, else a line a second); exit 0 when it COMPLETED, 1 when it FAILED or was CANCELLED')
    .option('--cancel-on-interrupt', 'with --watch: Ctrl-C cancels the job without asking');
}

export function checkWatchOptions(options: WatchOptions): void {
  if (options.cancelOnInterrupt && !options.watch) throw usageError('--cancel-on-interrupt goes with --watch');
}

/** Follows a job to its end with a progress display and prints how it ended; returns the exit code. */
export function watchJob(api: Api, id: string, options: WatchOptions): Promise<number> {
  return new Watch(api, id, options.cancelOnInterrupt ?? false).run();
}

class Watch {
  private readonly view: ProgressView = progressView();
  private readonly follower: JobFollower;
  /** Set once the first Ctrl-C is being answered, or its cancel is on its way: the next one stops watching. */
  private interrupting = false;
  private cancel: { sent: Promise<void>; abort: AbortController } | null = null;
  /** Ends an open question when the job ends meanwhile. */
  private readonly ended = new AbortController();

  constructor(
    private readonly api: Api,
    private readonly id: string,
    private readonly cancelOnInterrupt: boolean,
  ) {
    this.follower = new JobFollower(api, id, (job) => this.view.update(job));
  }

  async run(): Promise<number> {
    const end = await this.follow();
    await this.cancel?.sent;
    if (end === null) return this.detached();
    await printOutcome(this.api, end.id);
    return end.status === 'COMPLETED' ? EXIT.ok : EXIT.failed;
  }

  private async follow(): Promise<JobStateFragment | null> {
    const onSigint = (): void => void this.interrupted();
    process.on('SIGINT', onSigint);
    try {
      return await this.follower.run();
    } finally {
      process.off('SIGINT', onSigint);
      this.ended.abort();
      this.view.finish();
    }
  }

  private async interrupted(): Promise<void> {
    if (this.interrupting) return this.stopWatching();
    this.interrupting = true;
    this.view.pause();
    const choice = await chooseOnInterrupt(this.id, this.cancelOnInterrupt, this.ended.signal);
    if (this.ended.signal.aborted) return;
    if (choice === 'detach') return this.stopWatching();
    if (choice === 'cancel') this.cancel = this.sendCancel();
    else this.interrupting = false;
    this.view.resume();
  }

  /** cancelJob answers once the job has ended; meanwhile the follower shows it ending. */
  private sendCancel(): { sent: Promise<void>; abort: AbortController } {
    const abort = new AbortController();
    this.view.note(`sluice: cancelling ${this.id}…`);
    const sent = this.api.request(CancelJobDocument, { id: this.id }, abort.signal).then(
      ({ cancelJob }) => cancelJob.userErrors.forEach((error) => this.view.note(`sluice: not cancelled: ${error.message}`)),
      (error: Error) => void (abort.signal.aborted || this.view.note(`sluice: the cancel failed: ${error.message}`)),
    );
    return { sent, abort };
  }

  private stopWatching(): void {
    // The server carries out a cancel already received whether or not its answer is awaited.
    this.cancel?.abort.abort();
    this.follower.stop();
  }

  private detached(): number {
    const next = this.cancel ? `its cancel was requested; see "sluice job ${this.id}"` : `it goes on; follow it with "sluice job ${this.id} --watch"`;
    process.stderr.write(`sluice: stopped watching ${this.id}: ${next}\n`);
    return EXIT.detached;
  }
}
