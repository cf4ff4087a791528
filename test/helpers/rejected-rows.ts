import { parse } from 'csv-parse/sync';
import { JobRejectedRowsDocument } from '../generated/graphql';
import type { GraphQLClient } from './client';

export interface Download {
  status: number;
  type: string | null;
  disposition: string | null;
  body: string;
}

/** A plain GET, as a browser link or curl sends it: no key, no other header. */
export async function download(url: string): Promise<Download> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), disposition: response.headers.get('content-disposition'), body: await response.text() };
}

/** The records of a CSV, ragged rows as they are. */
export function records(csv: string): string[][] {
  return parse(csv, { relax_column_count: true });
}

/** The job's rejected-rows fields: status, rowsRejected and the signed link. */
export async function rejectedRowsOf(client: GraphQLClient, id: string) {
  const { job } = await client.request(JobRejectedRowsDocument, { id });
  return job!;
}

/** The records of the job's rejected-rows file, fetched through its link (which must exist). */
export async function rejectedRecords(client: GraphQLClient, id: string): Promise<string[][]> {
  const { rejectedRowsUrl } = await rejectedRowsOf(client, id);
  if (!rejectedRowsUrl) throw new Error(`job ${id} has no rejected-rows link`);
  const file = await download(rejectedRowsUrl);
  if (file.status !== 200) throw new Error(`the rejected-rows file of job ${id} answered ${file.status}: ${file.body}`);
  return records(file.body);
}
