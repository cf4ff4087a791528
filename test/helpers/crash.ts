import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import Database from 'better-sqlite3';
import ExcelJS from 'exceljs';
import { DatasetDocument, JobIssuesDocument, type JobIssuesQuery } from '../generated/graphql';
import type { GraphQLClient } from './client';
import type { ServerProcess } from './process';
import type { DatasetRow } from './queries';

export type IssueNode = NonNullable<JobIssuesQuery['job']>['issues']['edges'][number]['node'];

/** Writes a CSV of `rows` generated rows in a Node encoding (`latin1` for windows-1252 text, say), line by line. */
export async function writeEncodedCsv(path: string, header: string, rows: number, line: (i: number) => string, encoding: BufferEncoding): Promise<void> {
  const out = createWriteStream(path, { encoding });
  out.write(`${header}\n`);
  for (let i = 1; i <= rows; i++) {
    if (!out.write(`${line(i)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
}

/** Writes a one-sheet workbook with exceljs's streaming writer: a header row, then `rows` generated rows (texts inline, or in shared strings written after the sheet). */
export async function writeGeneratedXlsx(path: string, sheet: string, header: string[], rows: number, row: (i: number) => unknown[], useSharedStrings = false): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings, useStyles: false });
  const worksheet = workbook.addWorksheet(sheet);
  worksheet.addRow(header).commit();
  for (let i = 1; i <= rows; i++) worksheet.addRow(row(i)).commit();
  worksheet.commit();
  await workbook.commit();
}

/** Pages through a dataset's visible rows in order, handing each page to `visit`, without holding them all. */
export async function forEachRowPage(client: GraphQLClient, dataset: string, visit: (rows: DatasetRow[]) => void, pageSize = 1000): Promise<void> {
  let after: string | null | undefined;
  for (;;) {
    const { dataset: page } = await client.request(DatasetDocument, { name: dataset, first: pageSize, after });
    if (!page) throw new Error(`dataset ${dataset} not found`);
    visit(page.rows.edges.map((edge) => edge.node));
    if (!page.rows.pageInfo.hasNextPage) return;
    after = page.rows.pageInfo.endCursor;
  }
}

/** Every issue of a job, in order, through all pages of `job.issues`. */
export async function allIssues(client: GraphQLClient, jobId: string): Promise<IssueNode[]> {
  const issues: IssueNode[] = [];
  let after: string | null | undefined;
  for (;;) {
    const { job } = await client.request(JobIssuesDocument, { id: jobId, first: 1000, after });
    if (!job) throw new Error(`job ${jobId} not found`);
    issues.push(...job.issues.edges.map((edge) => edge.node));
    if (!job.issues.pageInfo.hasNextPage) return issues;
    after = job.issues.pageInfo.endCursor;
  }
}

/** A second connection to a data directory's database that tells whether some other connection holds the write lock. */
export interface WriteLockProbe {
  held(): boolean;
  close(): void;
}

export function openWriteLockProbe(dataDir: string): WriteLockProbe {
  // No busy timeout: a held lock must answer SQLITE_BUSY at once instead of being waited for.
  const db = new Database(join(dataDir, 'sluice.db'), { fileMustExist: true, timeout: 0 });
  return {
    held() {
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
        throw error;
      }
      db.exec('ROLLBACK');
      return false;
    },
    close: () => db.close(),
  };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds (fractions too), without spinning. */
function sleepSync(ms: number): void {
  Atomics.wait(pause, 0, 0, ms);
}

/**
 * SIGKILLs the server once the probe finds the write lock held twice, `heldMs` apart: a batch's write
 * transaction, in practice, as the service's other writes last well under a millisecond. Probes
 * synchronously, so that nothing runs between seeing the lock and the kill, a fraction of a
 * millisecond apart so that the probe's own lock does not hold up the writer, and lets the event
 * loop turn every few milliseconds. False if no such lock was seen in time.
 */
export async function killWhileWriteLocked(server: ServerProcess, probe: WriteLockProbe, timeoutMs: number, heldMs = 2): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const sliceEnd = Date.now() + 5;
    while (Date.now() < sliceEnd) {
      if (probe.held()) {
        sleepSync(heldMs);
        if (probe.held()) {
          await server.kill('SIGKILL'); // the signal goes before the first await
          return true;
        }
      }
      sleepSync(0.2);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}
