// A job's issues, a page at a time, read again (at most once a second) as the job finds more.
import { useQuery, useThrottled } from './hooks';
import { Pager, useTrail } from './pager';
import { type Issue, ISSUES, type IssuesAnswer } from './queries';

function IssueRows({ issues, total }: { issues: Issue[]; total: number }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label="Issues table">
      <table>
        <caption>{`${total} issue${total === 1 ? '' : 's'} stored`}</caption>
        <thead>
          <tr>
            <th scope="col">Row</th>
            <th scope="col">Column</th>
            <th scope="col">Code</th>
            <th scope="col">Message</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {issues.map((issue, index) => (
            <tr key={index}>
              <td class="number">{issue.row ?? '—'}</td>
              <td>{issue.column ?? '—'}</td>
              <td>
                <span class={`code code-${issue.severity.toLowerCase()}`}>{issue.code}</span>
                {issue.severity === 'WARNING' && <span class="muted"> warning</span>}
              </td>
              <td class="wide">{issue.message}</td>
              <td class="value">{issue.value ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function IssuesTable({ id, found }: { id: string; found: number }) {
  const trail = useTrail();
  const { data, error } = useQuery<IssuesAnswer>(ISSUES, { id, after: trail.after }, useThrottled(found, 1000));
  const issues = data?.job?.issues;
  return (
    <section aria-labelledby="issues-heading">
      <h2 id="issues-heading">Issues</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {issues?.totalCount === 0 && <p class="muted">No issues.</p>}
      {issues && issues.totalCount > 0 && <IssueRows issues={issues.edges.map((edge) => edge.node)} total={issues.totalCount} />}
      {issues && <Pager trail={trail} endCursor={issues.pageInfo.endCursor} hasNextPage={issues.pageInfo.hasNextPage} />}
    </section>
  );
}
