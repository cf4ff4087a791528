import { expect } from 'vitest';
import { DatasetDocument, type IssueSeverity, JobIssuesDocument } from '../generated/graphql';
import type { GraphQLClient } from './client';

/** An issue as the tests compare it: everything but its message (checked to be there). */
export type IssueView = { severity: IssueSeverity; code: string; row: number | null; column: string | null; value: string | null };

export const errorIssue = (code: string, row: number, column: string | null, value: string | null): IssueView => ({ severity: 'ERROR', code, row, column, value });
export const warningIssue = (code: string, column: string): IssueView => ({ severity: 'WARNING', code, row: null, column, value: null });

/** Every issue of a job, in order, paging through `issues`. */
export async function jobIssues(client: GraphQLClient, jobId: string, severity?: IssueSeverity): Promise<Array<IssueView & { message: string }>> {
  const issues: Array<IssueView & { message: string }> = [];
  let after: string | null | undefined;
  for (;;) {
    const { job } = await client.request(JobIssuesDocument, { id: jobId, first: 1000, after, severity });
    for (const { node } of job!.issues.edges) {
      expect(node.message).toMatch(/\S/);
      issues.push(node);
    }
    if (!job!.issues.pageInfo.hasNextPage) return issues;
    after = job!.issues.pageInfo.endCursor;
  }
}

/** A job's issues without their messages. */
export async function issueViews(client: GraphQLClient, jobId: string, severity?: IssueSeverity): Promise<IssueView[]> {
  return (await jobIssues(client, jobId, severity)).map(({ message: _message, ...rest }) => rest);
}

/** A dataset's row count, columns and every row's values (one page: the dataset must be small). */
export async function smallDataset(client: GraphQLClient, name: string) {
  const { dataset } = await client.request(DatasetDocument, { name, first: 1000 });
  expect(dataset).not.toBeNull();
  expect(dataset!.rows.pageInfo.hasNextPage).toBe(false);
  return { rowCount: dataset!.rowCount, columns: dataset!.columns, totalCount: dataset!.rows.totalCount, values: dataset!.rows.edges.map((e) => e.node.values) };
}
