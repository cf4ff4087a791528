import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Api } from './api';
import { noSuchJob } from './errors';
import { FollowJobDocument, type FollowJobSubscription, type JobStateFragment, type JobStatus, PollJobDocument } from './generated';

const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(['COMPLETED', 'FAILED', 'CANCELLED']);
const POLL_INTERVAL_MS = 1000;

export function isTerminal(job: { status: JobStatus }): boolean {
  return TERMINAL.has(job.status);
}

/**
 * Follows a job to its end: live by the `jobProgress` subscription over graphql-ws, or, when the
 * socket cannot be opened or drops, by polling `job(id)` every second. Hands on each newer state.
 */
export class JobFollower {
  private last: JobStateFragment | null = null;
  private stopped = false;
  private interrupt = (): void => {};

  constructor(
    private readonly api: Api,
    private readonly id: string,
    private readonly onUpdate: (job: JobStateFragment) => void,
  ) {}

  /** The job's terminal state, or null once stopped. */
  async run(): Promise<JobStateFragment | null> {
    const why = await this.live();
    if (this.last && isTerminal(this.last)) return this.last;
    if (this.stopped) return null;
    process.stderr.write(`sluice: live updates unavailable (${why}); polling the job every second\n`);
    return this.poll();
  }

  /** Stops following (the job goes on). */
  stop(): void {
    this.stopped = true;
    this.interrupt();
  }

  private deliver(job: JobStateFragment): void {
    // The subscription and a poll may both see a state: only newer ones go on.
    if (this.last !== null && job.sequence <= this.last.sequence) return;
    this.last = job;
    this.onUpdate(job);
  }

  /** Follows the subscription until it ends; resolves with why it did. */
  private live(): Promise<string> {
    const client = createClient({ url: this.api.endpoint.ws.href, webSocketImpl: WebSocket, connectionParams: this.api.authorization, retryAttempts: 0 });
    return new Promise<string>((resolve) => {
      this.interrupt = () => resolve('stopped');
      client.subscribe<FollowJobSubscription>(
        { query: print(FollowJobDocument), variables: { id: this.id } },
        {
          next: ({ data }) => data && this.deliver(data.jobProgress),
          error: (error) => resolve(describeSocketError(error)),
          complete: () => resolve('the subscription ended before the job did'),
        },
      );
    }).finally(() => void client.dispose());
  }

  private async poll(): Promise<JobStateFragment | null> {
    while (!this.stopped) {
      const { job } = await this.api.request(PollJobDocument, { id: this.id });
      if (!job) throw noSuchJob(this.id);
      this.deliver(job);
      if (isTerminal(job)) return job;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_INTERVAL_MS);
        this.interrupt = () => (clearTimeout(timer), resolve());
      });
    }
    return null;
  }
}

/** What graphql-ws hands its error sink: GraphQL errors, a close event, or a socket error. */
function describeSocketError(error: unknown): string {
  if (Array.isArray(error)) return error.map((item: { message?: string }) => item.message).join('; ');
  const { code, reason, message } = error as { code?: number; reason?: string; message?: string };
  if (code !== undefined) return `the WebSocket closed with ${code}${reason ? ` ${reason}` : ''}`;
  return message || String(error);
}
