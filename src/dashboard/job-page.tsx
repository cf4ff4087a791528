// One job: its progress (live, by the jobProgress subscription), facts, issues, rejected rows and
// webhook deliveries, with Cancel while it can be cancelled.
import { useEffect, useState } from 'preact/hooks';
import { messageOf, request } from './api';
import { Deliveries } from './deliveries';
import { bytes, count, duration, rate, when } from './format';
import { IssuesTable } from './issues-table';
import { ProgressBar, StatusBadge } from './job-status';
import { subscribe } from './live';
import { CANCEL, type CancelAnswer, JOB, type JobAnswer, type JobDetail, JOB_PROGRESS, type JobProgressEvent } from './queries';
import { links } from './router';

const newer = (known: JobDetail | null, incoming: JobDetail) => (known && known.sequence >= incoming.sequence ? known : incoming);

/** The job as read, then as each event of its feed says (the feed sends the job as it is first, and again after a reconnect). */
function useLiveJob(id: string) {
  const [job, setJob] = useState<JobDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setJob(null);
    setError(null);
    request<JobAnswer>(JOB, { id }).then((answer) => (answer.job ? setJob((known) => newer(known, answer.job!)) : setError('No such job.')), (failure) => setError(messageOf(failure)));
    return subscribe<JobProgressEvent>(JOB_PROGRESS, { id }, ({ jobProgress }) => setJob((known) => newer(known, jobProgress)), setError);
  }, [id]);
  return { job, error, update: (changed: JobDetail) => setJob((known) => newer(known, changed)) };
}

function CancelButton({ job, onCancelled }: { job: JobDetail; onCancelled: (job: JobDetail) => void }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  async function cancel() {
    setBusy(true);
    try {
      const { cancelJob } = await request<CancelAnswer>(CANCEL, { id: job.id });
      if (cancelJob.job) onCancelled(cancelJob.job);
      setProblem(cancelJob.userErrors.map((e) => e.message).join('; ') || null);
    } catch (failure) {
      setProblem(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button type="button" class="danger" disabled={busy} onClick={() => void cancel()}>
        Cancel
      </button>
      {problem && (
        <span class="error" role="alert">
          {problem}
        </span>
      )}
    </>
  );
}

/** UPSERT's split of the rows written, once the job has completed with one. */
function keyMatchFacts({ result }: JobDetail): Array<[string, string]> {
  if (!result || result.rowsUpdated + result.rowsUnchanged === 0) return [];
  return [['Inserted / updated / unchanged', `${count(result.rowsInserted)} / ${count(result.rowsUpdated)} / ${count(result.rowsUnchanged)}`]];
}

function Facts({ job }: { job: JobDetail }) {
  const { progress } = job;
  const facts: Array<[string, string]> = [
    ['Stage', job.stage],
    ...(job.dryRun ? [['Dry run', 'yes: validated and counted, nothing written to the dataset'] as [string, string]] : []),
    ['Rows read', `${count(progress.processedRows)}${progress.totalRows === null ? '' : ` of ${count(progress.totalRows)}`}`],
    ['Rows written', count(progress.rowsWritten)],
    ...keyMatchFacts(job),
    ['Rows rejected', count(progress.rowsRejected)],
    ['Errors / warnings', `${count(job.issueCounts.errors)} / ${count(job.issueCounts.warnings)}`],
    ['Speed', rate(progress.rowsPerSecond)],
    ['ETA', duration(progress.etaSeconds)],
    ['Read', `${bytes(progress.bytesRead)} of ${bytes(progress.totalBytes)}`],
    ['File', `${job.file.name} (${job.file.format}, ${bytes(job.file.size)})`],
    ['Attempts', String(job.attempts)],
    ['Created', when(job.createdAt)],
    ['Started', when(job.startedAt)],
    ['Completed', when(job.completedAt)],
  ];
  return (
    <dl class="facts">
      {facts.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Messages({ messages }: { messages: JobDetail['messages'] }) {
  if (messages.length === 0) return null;
  return (
    <section aria-labelledby="messages-heading">
      <h2 id="messages-heading">Messages</h2>
      <dl class="facts">
        {messages.map(({ key, value }) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd class="value">{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

export function JobPage({ id }: { id: string }) {
  const { job, error, update } = useLiveJob(id);
  if (!job) return <p class={error ? 'error' : 'muted'}>{error ?? 'Loading…'}</p>;
  const cancellable = job.status === 'PENDING' || job.status === 'RUNNING';
  return (
    <article class="job-page">
      <p class="crumbs">
        <a href={links.jobs}>Jobs</a> / <a href={links.dataset(job.dataset.name)}>{job.dataset.name}</a>
      </p>
      <h1>
        Job <span class="mono">{job.id}</span>
      </h1>
      <div class="job-head">
        <StatusBadge status={job.status} stalled={job.stalled} />
        <ProgressBar percent={job.progress.percent} label={`Progress of ${job.dataset.name}`} />
        {cancellable && <CancelButton job={job} onCancelled={update} />}
      </div>
      {job.error && (
        <p class="error">
          {job.error.code}: {job.error.message}
        </p>
      )}
      <Facts job={job} />
      {job.rejectedRowsUrl && (
        <p>
          <a class="button-link" href={job.rejectedRowsUrl} download>
            Download rejected rows
          </a>
        </p>
      )}
      <Messages messages={job.messages} />
      <IssuesTable id={job.id} found={job.issueCounts.errors + job.issueCounts.warnings} />
      <Deliveries id={job.id} status={job.status} />
    </article>
  );
}
