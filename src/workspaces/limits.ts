import type { WorkspaceLimits } from '../config';
import type { InputProblem } from '../datasets/columns';
import type { WorkspaceLoad } from '../ports/job-store';

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

// What one workspace may hold at once: uploads of its pending and running jobs (bytes), such jobs, and
// webhook endpoints. The stores run these checks inside the atomic step that creates the job or the
// endpoint, so two requests cannot both take the last room.

/** Throws WorkspaceLimitError when one more job with an upload of `bytes` would pass a limit of a workspace under `load`. */
export function admitJob(load: WorkspaceLoad, bytes: number, { activeJobs, queuedBytes }: WorkspaceLimits): void {
  if (load.activeJobs >= activeJobs) {
    refuse('TOO_MANY_JOBS', `the workspace has ${load.activeJobs} pending or running jobs, the most it may have; wait for one to finish (or cancel one) and send the file again`);
  }
  if (bytes > queuedBytes) {
    refuse('QUEUE_FULL', `the file (${bytes} bytes) is larger than the ${queuedBytes} bytes of uploads a workspace may have queued; it cannot be accepted`, FILE);
  }
  if (load.queuedBytes + bytes > queuedBytes) {
    const queued = `the workspace's pending and running jobs hold ${load.queuedBytes} bytes of uploads, and this file's ${bytes} bytes would pass the limit of ${queuedBytes}`;
    refuse('QUEUE_FULL', `${queued}; wait for jobs to finish (or cancel some) and send the file again`, FILE);
  }
}

/** Throws WorkspaceLimitError when a workspace with `endpoints` webhook endpoints may register no more. */
export function admitEndpoint(endpoints: number, limits: WorkspaceLimits): void {
  if (endpoints >= limits.webhookEndpoints) {
    refuse('TOO_MANY_ENDPOINTS', `the workspace has ${endpoints} webhook endpoints, the most it may have; delete one (deleteWebhook) before registering another`);
  }
}
