// Cases about jobs rather than rows: how soon a small job's end reaches a subscriber, and how jobs
// running side by side share the machine's cores.
import { IngestDocument, JobProgressDocument } from '../../test/generated/graphql';
import type { ServerProcess } from '../../test/helpers/process';
import { SubscriptionClient } from '../../test/helpers/subscribe';
import { COLUMNS, type ServerEnv, timedJob, withServer } from './sluice';

export interface SmallJobSample {
  /** Per job: milliseconds from sending the upload to the COMPLETED event reaching a graphql-ws subscriber. */
  eventMs: number[];
  /** Per job: milliseconds from sending the upload to the `ingest` answer (the job then exists, PENDING). */
  answerMs: number[];
}

/**
 * `jobs` uploads of a small file, one after the other, each followed on `jobProgress` over one open
 * graphql-ws connection (a first, unmeasured job opens it). The subscription starts once the answer
 * names the job: a job that has already ended is answered with its terminal event at once.
 */
export function smallJobs(dataDir: string, path: string, jobs: number, env: ServerEnv = {}): Promise<SmallJobSample> {
  return withServer(dataDir, async (server) => {
    const subscriber = new SubscriptionClient(server.url, 'ws', server.client.apiKey);
    try {
      const sample: SmallJobSample = { eventMs: [], answerMs: [] };
      await smallJob(server, subscriber, path);
      for (let i = 0; i < jobs; i++) {
        const { eventMs, answerMs } = await smallJob(server, subscriber, path);
        sample.eventMs.push(eventMs);
        sample.answerMs.push(answerMs);
      }
      return sample;
    } finally {
      await subscriber.dispose();
    }
  }, { env });
}

async function smallJob(server: ServerProcess, subscriber: SubscriptionClient, path: string): Promise<{ eventMs: number; answerMs: number }> {
  const sent = Date.now();
  const answer = await server.client.upload(IngestDocument, { input: { dataset: 'small', columns: COLUMNS } }, path, 'small.csv');
  const answerMs = Date.now() - sent;
  const received = subscriber.subscribe(JobProgressDocument, { id: answer.data!.ingest.job!.id });
  await received.done;
  const last = received.events.at(-1);
  if (last?.data.jobProgress.status !== 'COMPLETED') throw new Error(`the small job ended ${JSON.stringify(last?.data)} ${JSON.stringify(received.errors)}`);
  return { eventMs: last.at - sent, answerMs };
}

/** `jobs` ingests of the same file into as many datasets, uploaded together to one server: all their rows over the seconds until the last ends. */
export function concurrentJobs(dataDir: string, path: string, rows: number, jobs: number, env: ServerEnv = {}): Promise<number> {
  return withServer(dataDir, async (server) => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: jobs }, (_, i) => timedJob(server.client, { dataset: `side-by-side-${i}`, columns: COLUMNS }, path, (result) => result.rowsWritten === rows)),
    );
    return (jobs * rows) / ((performance.now() - started) / 1000);
  }, { env });
}
