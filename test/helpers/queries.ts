import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { expect } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/auth/first-key';
import type { ColumnSpec } from '../../src/datasets/columns';
import type { FileFormat, IngestMode } from '../../src/jobs/model';
import { DatasetDocument, IngestDocument, type IngestInput, type IngestMutation, type JobFieldsFragment, JobCountDocument, type JobStatus } from '../generated/graphql';
import type { GraphQLClient } from './client';
import { type TestServer, waitForJob } from './server';

/** An ingest's input without the file, which travels as a multipart part instead. */
export type IngestFileInput = Omit<IngestInput, 'file'>;

/** One row of a dataset as `dataset.rows` gives it. */
export type DatasetRow = { row: number; values: Record<string, unknown> };

/** Every visible row of a dataset, in order, paging through `dataset.rows` `pageSize` rows at a time. */
export async function allRows(client: GraphQLClient, dataset: string, pageSize = 1000): Promise<DatasetRow[]> {
  const rows: DatasetRow[] = [];
  let after: string | null | undefined;
  for (;;) {
    const { dataset: page } = await client.request(DatasetDocument, { name: dataset, first: pageSize, after });
    expect(page).not.toBeNull();
    rows.push(...page!.rows.edges.map((edge) => edge.node));
    if (!page!.rows.pageInfo.hasNextPage) return rows;
    after = page!.rows.pageInfo.endCursor;
  }
}

/** How many jobs there are: all of them, or only those with one of these statuses and/or of this dataset. */
export async function jobCount(client: GraphQLClient, filter: { status?: JobStatus[]; dataset?: string } = {}): Promise<number> {
  return (await client.request(JobCountDocument, { status: filter.status, dataset: filter.dataset })).jobs.totalCount;
}

/** A job's messages as one object, key to value. */
export function messagesOf(job: { messages: Array<{ key: string; value: string }> }): Record<string, string> {
  return Object.fromEntries(job.messages.map((m) => [m.key, m.value]));
}

/** Uploads a file that must be accepted (no GraphQL error, no userErrors) and returns the job it created. */
export async function submit(client: GraphQLClient, input: IngestFileInput, path: string, fileName?: string): Promise<JobFieldsFragment> {
  const answer = await client.upload(IngestDocument, { input }, path, fileName);
  expect(answer.errors).toBeUndefined();
  expect(answer.data!.ingest.userErrors).toEqual([]);
  expect(answer.data!.ingest.job).not.toBeNull();
  return answer.data!.ingest.job!;
}

/** Uploads a file that must be accepted, and waits until its job is terminal. */
export async function ingest(client: GraphQLClient, input: IngestFileInput, path: string, fileName?: string): Promise<JobFieldsFragment> {
  const job = await submit(client, input, path, fileName);
  return waitForJob(client, job.id);
}

/** Uploads a file that must be refused: a 200 answer without GraphQL errors and without a job. Returns its userErrors. */
export async function submitRefused(
  client: GraphQLClient,
  input: IngestFileInput,
  path: string,
  fileName?: string,
): Promise<IngestMutation['ingest']['userErrors']> {
  const answer = await client.upload(IngestDocument, { input }, path, fileName);
  expect(answer.status).toBe(200);
  expect(answer.errors).toBeUndefined();
  expect(answer.data!.ingest.job).toBeNull();
  return answer.data!.ingest.userErrors;
}

/** What a job committed past the submission's checks is made of: the rest takes defaults. */
export interface UncheckedJob {
  dataset: string;
  format: FileFormat;
  columns: ColumnSpec[] | null;
  sheet?: string | null;
  mode?: IngestMode;
}

/**
 * Commits a job through the real server's registry, as the submission would but without its checks,
 * and starts it: how a job of an older version (accepted by rules since tightened), or a file the
 * checks would refuse, reaches a worker. Returns its id.
 */
export async function submitUnchecked(server: TestServer, job: UncheckedJob, path: string): Promise<string> {
  const { registry, runner } = server.app.services;
  const { blobs } = server.app.engine;
  const id = `job_${randomUUID()}`;
  await blobs.put(await blobs.stage(createReadStream(path), basename(path)), id);
  const bytes = await readFile(path);
  const options = { columns: job.columns, csv: { delimiter: null, quote: '"', header: true, encoding: 'utf-8' }, sheet: job.sheet ?? null, mode: job.mode ?? 'APPEND', maxErrors: null, webhookUrl: null, nullValues: [], skipRows: 0, dryRun: false, key: null };
  const file = { name: basename(path), format: job.format, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  await registry.create({ id, workspace: DEFAULT_WORKSPACE, file, upload: id, options, idempotencyKey: null }, { name: job.dataset, columns: null });
  runner.kick();
  return id;
}
