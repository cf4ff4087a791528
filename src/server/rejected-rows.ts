import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Logger } from 'pino';
import type { IssueLimits } from '../config';
import { isTerminal, type Job } from '../jobs/model';
import type { JobStore } from '../ports/job-store';
import { answerText, isGetOrHead, requestUrl } from './plain-http';
import { signLink, verifyLink } from './signed-link';

const PATH = /^\/rejected-rows\/([A-Za-z0-9_-]{1,64})\.csv$/;
/** Rows read from the store per query while the file streams. */
const PAGE_ROWS = 500;

export interface RejectedRowsDeps {
  jobs: JobStore;
  /** The deployment's key for signed links: the same on every instance, so any of them answers a link another minted. */
  signingKey: () => Promise<Buffer>;
  /** How long a minted link works. */
  ttlMs: number;
  limits: Pick<IssueLimits, 'rejectedRows' | 'rejectedBytes'>;
  log: Logger;
}

/**
 * The rejected-rows file of an ended job: `Job.rejectedRowsUrl` mints a signed link that expires,
 * and `GET /rejected-rows/<job id>.csv?expires=…&signature=…` answers it without an API key (a
 * browser link and curl work) with a CSV streamed from the store: `_row`, `_errors`, then the
 * file's own columns, one line per rejected row as the file had it.
 */
export class RejectedRowsFiles {
  constructor(private readonly deps: RejectedRowsDeps) {}

  /** A link to the job's rejected rows, under `origin`; null until the job has ended, or when it rejected none. */
  async link(job: Job, origin: string, nowMs: number): Promise<string | null> {
    if (!isTerminal(job.status) || job.progress.rowsRejected === 0) return null;
    const expires = Math.floor((nowMs + this.deps.ttlMs) / 1000);
    const signature = signLink(await this.deps.signingKey(), { jobId: job.id, workspace: job.workspace, expires });
    return `${origin}/rejected-rows/${encodeURIComponent(job.id)}.csv?expires=${expires}&signature=${signature}`;
  }

  handles(req: IncomingMessage): boolean {
    return isGetOrHead(req) && PATH.test(requestUrl(req).pathname);
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const job = await this.authorized(req, res);
      if (!job) return;
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="rejected-rows-${job.id}.csv"`,
        'cache-control': 'private, no-store',
      });
      if (req.method === 'HEAD') return void res.end();
      await pipeline(Readable.from(this.lines(job)), stringify(), res);
    } catch (error) {
      this.deps.log.warn({ err: error, url: req.url?.replace(/signature=[^&]*/, 'signature=…') }, 'serving a rejected-rows file failed');
      if (!res.headersSent) answerText(res, 500, 'the file could not be read; try again');
      else res.destroy();
    }
  }

  /** The job the link is for, when it is genuine and current; otherwise answers 403 or 410, saying no more. */
  private async authorized(req: IncomingMessage, res: ServerResponse): Promise<Job | null> {
    const url = requestUrl(req);
    const jobId = PATH.exec(url.pathname)![1];
    const expires = Number(url.searchParams.get('expires'));
    const signature = url.searchParams.get('signature') ?? '';
    const job = Number.isSafeInteger(expires) ? await this.deps.jobs.get(jobId) : null;
    const verdict = job ? verifyLink(await this.deps.signingKey(), { jobId, workspace: job.workspace, expires }, signature, Date.now()) : 'forged';
    if (verdict === 'valid') return job;
    if (verdict === 'expired') answerText(res, 410, 'this link has expired: ask for the job again to get a new one');
    else answerText(res, 403, 'this link is not valid');
    return null;
  }

  /** The file's records: its header, each kept row, and a last line when rows were rejected past what a job keeps. */
  private async *lines(job: Job): AsyncGenerator<string[]> {
    let kept = 0;
    for (let after = -1; ; ) {
      const page = await this.deps.jobs.rejectedRows(job.num, after, PAGE_ROWS);
      // Row 0, the file's header, comes first: it is stored with the first row kept.
      for (const { row, errors, cells } of page) yield row === 0 ? ['_row', '_errors', ...cells] : [String(row), errors, ...cells];
      kept += page.filter(({ row }) => row > 0).length;
      if (page.length < PAGE_ROWS) break;
      after = page[page.length - 1].row;
    }
    if (kept === 0) yield ['_row', '_errors'];
    const untold = job.progress.rowsRejected - kept;
    if (untold > 0) yield ['', this.truncation(untold)];
  }

  private truncation(untold: number): string {
    const { rejectedRows, rejectedBytes } = this.deps.limits;
    return `truncated: ${untold} more rejected row(s) are not in this file; a job keeps at most ${rejectedRows} rejected rows and ${Math.round(rejectedBytes / 1024 ** 2)} MiB of their cells (the job's issues count them all)`;
  }
}
