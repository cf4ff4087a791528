// The live list of jobs, filtered by status.
import { count, duration, rate, when } from './format';
import type { JobFeed } from './job-feed';
import { ProgressBar, StatusBadge } from './job-status';
import { STATUSES, type JobStatus, type JobSummary } from './queries';
import { links } from './router';

function JobItem({ job }: { job: JobSummary }) {
  const { progress } = job;
  return (
    <li class="job">
      <div class="job-name">
        <a href={links.job(job.id)}>{job.dataset.name}</a>
        {job.dryRun && <span class="tag">dry run</span>}
        <span class="muted mono">{job.id}</span>
      </div>
      <StatusBadge status={job.status} stalled={job.stalled} />
      <ProgressBar percent={progress.percent} label={`Progress of ${job.dataset.name}`} />
      <span class="job-fact job-rate" title={`${count(progress.processedRows)} rows read`}>
        {rate(progress.rowsPerSecond)}
      </span>
      <span class="job-fact job-eta">ETA {duration(progress.etaSeconds)}</span>
      <time class="job-fact muted" dateTime={job.createdAt}>
        {when(job.createdAt)}
      </time>
    </li>
  );
}

interface Props {
  feed: JobFeed;
  status: JobStatus | null;
  onStatus: (status: JobStatus | null) => void;
}

export function JobList({ feed, status, onStatus }: Props) {
  return (
    <section class="panel" aria-labelledby="jobs-heading">
      <div class="panel-head">
        <h2 id="jobs-heading">Jobs</h2>
        <label class="inline">
          Status
          <select value={status ?? ''} onChange={(event) => onStatus((event.currentTarget.value || null) as JobStatus | null)}>
            <option value="">All</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
      </div>
      {feed.error && (
        <p class="error" role="alert">
          {feed.error}
        </p>
      )}
      {feed.jobs.length === 0 ? (
        <p class="muted">{status ? `No ${status} jobs.` : 'No jobs yet: upload a file.'}</p>
      ) : (
        <ul class="jobs">
          {feed.jobs.map((job) => (
            <JobItem key={job.id} job={job} />
          ))}
        </ul>
      )}
      {feed.more && (
        <button type="button" class="secondary" onClick={feed.loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}
