import type { WorkspaceLimits } from '../config';
import type { InputProblem } from '../datasets/columns';
import { type Db, writeTransaction } from '../storage/sqlite';

/** A limit the workspace has reached: the userError to answer; nothing was created. */
export class WorkspaceLimitError extends Error {
  constructor(readonly problem: InputProblem) {
    super(problem.message);
  }
}

const refuse = (code: string, message: string, field: string[] | null = null): never => {
  throw new WorkspaceLimitError({ code, field, message });
};

const FILE = ['input', 'file'];

/**
 * What one workspace may hold at once: uploads of its pending and running jobs (bytes), such jobs,
 * and webhook endpoints. Every check runs inside the write transaction that creates the job or the
 * endpoint, so two requests cannot both take the last room.
 */
export class WorkspaceQuota {
  private readonly statements;

  constructor(
    private readonly db: Db,
    private readonly limits: WorkspaceLimits,
  ) {
    this.statements = {
      active: db.prepare(`SELECT count(*) AS jobs, coalesce(sum(file_size), 0) AS bytes FROM jobs WHERE workspace = ? AND status IN ('PENDING', 'RUNNING')`),
      endpoints: db.prepare('SELECT count(*) FROM webhook_endpoints WHERE workspace = ?').pluck(),
    };
  }

  /** Throws WorkspaceLimitError when one more job with an upload of `bytes` would pass a limit; call it inside the transaction that creates the job. */
  admitJob(workspace: string, bytes: number): void {
    const { activeJobs, queuedBytes } = this.limits;
    const active = this.statements.active.get(workspace) as { jobs: number; bytes: number };
    if (active.jobs >= activeJobs) {
      refuse('TOO_MANY_JOBS', `the workspace has ${active.jobs} pending or running jobs, the most it may have; wait for one to finish (or cancel one) and send the file again`);
    }
    if (bytes > queuedBytes) {
      refuse('QUEUE_FULL', `the file (${bytes} bytes) is larger than the ${queuedBytes} bytes of uploads a workspace may have queued; it cannot be accepted`, FILE);
    }
    if (active.bytes + bytes > queuedBytes) {
      const queued = `the workspace's pending and running jobs hold ${active.bytes} bytes of uploads, and this file's ${bytes} bytes would pass the limit of ${queuedBytes}`;
      refuse('QUEUE_FULL', `${queued}; wait for jobs to finish (or cancel some) and send the file again`, FILE);
    }
  }

  /** Runs `create` in a write transaction, unless the workspace already has every webhook endpoint it may have (WorkspaceLimitError). */
  withEndpointRoom<T>(workspace: string, create: () => T): T {
    return writeTransaction(this.db, () => {
      const endpoints = this.statements.endpoints.get(workspace) as number;
      if (endpoints >= this.limits.webhookEndpoints) {
        refuse('TOO_MANY_ENDPOINTS', `the workspace has ${endpoints} webhook endpoints, the most it may have; delete one (deleteWebhook) before registering another`);
      }
      return create();
    });
  }
}
