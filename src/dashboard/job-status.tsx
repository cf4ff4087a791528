// A job's status word, stalled mark and progress bar: the list and the job's page show them alike.
import { wholePercent } from './format';
import type { JobStatus } from './queries';

export function StatusBadge({ status, stalled }: { status: JobStatus; stalled: boolean }) {
  return (
    <span class="badges">
      <span class={`status status-${status.toLowerCase()}`}>{status}</span>
      {stalled && (
        <span class="stalled" title="No heartbeat from the instance running it for a while">
          stalled
        </span>
      )}
    </span>
  );
}

export function ProgressBar({ percent, label }: { percent: number; label: string }) {
  const value = wholePercent(percent);
  return (
    <div class="progress">
      <div class="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value}>
        {/* A style object is applied through the CSSOM, which the CSP allows (a style attribute it would not). */}
        <div class="progress-fill" style={{ width: `${value}%` }} />
      </div>
      <span class="progress-value">{value}%</span>
    </div>
  );
}
