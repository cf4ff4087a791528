// The jobs the list shows: a page read once, kept current by the jobUpdates subscription.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { messageOf, request } from './api';
import { onReconnect, subscribe } from './live';
import { JOB_UPDATES, JOBS, type JobsAnswer, type JobStatus, type JobSummary, type JobUpdatesEvent } from './queries';

export interface JobFeed {
  /** Newest first, those of the filter only. */
  jobs: JobSummary[];
  error: string | null;
  more: string | null;
  loadMore: () => void;
  /** A job the page created: shown at once, before its first event arrives. */
  add: (job: JobSummary) => void;
}

const newestFirst = (a: JobSummary, b: JobSummary) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/** `known` with `incoming` merged in: an event never replaces a newer state of its job. */
function merge(known: JobSummary[], incoming: JobSummary[]): JobSummary[] {
  const byId = new Map(known.map((job) => [job.id, job]));
  for (const job of incoming) {
    const seen = byId.get(job.id);
    if (!seen || seen.sequence < job.sequence) byId.set(job.id, job);
  }
  return [...byId.values()].sort(newestFirst);
}

export function useJobFeed(status: JobStatus | null): JobFeed {
  const [jobs, setJobs] = useState<JobSummary[]>([]);
  const [more, setMore] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    (after: string | null) => {
      request<JobsAnswer>(JOBS, { status: status ? [status] : null, after }).then(({ jobs: page }) => {
        const nodes = page.edges.map((edge) => edge.node);
        setJobs((known) => merge(known, nodes));
        setMore(page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null);
        setError(null);
      }, (failure) => setError(messageOf(failure)));
    },
    [status],
  );

  useEffect(() => {
    // A new filter starts from nothing; events that arrive before the first page are kept.
    setJobs([]);
    setMore(null);
    load(null);
    // Every job's changes, whatever the filter: a job that leaves the filter must leave the list too.
    const stop = subscribe<JobUpdatesEvent>(JOB_UPDATES, {}, ({ jobUpdates }) => setJobs((known) => merge(known, [jobUpdates])), setError);
    const stopReloading = onReconnect(() => load(null));
    return () => {
      stop();
      stopReloading();
    };
  }, [load]);

  const add = useCallback((job: JobSummary) => setJobs((known) => merge(known, [job])), []);
  return {
    jobs: status ? jobs.filter((job) => job.status === status) : jobs,
    error,
    more,
    loadMore: () => more && load(more),
    add,
  };
}
