import { createGraphQLError } from 'graphql-yoga';
import { jobFeed } from '../events/job-feed';
import { isTerminal, type Job as JobRecord } from '../jobs/model';
import { builder } from './builder';
import { Job, jobOfWorkspace, JobStatus } from './job';

function notFound(): Error {
  return createGraphQLError('no such job', { extensions: { code: 'NOT_FOUND' } });
}

/** The job's snapshot (unless the caller has seen it), then its changes, ending with its terminal state. */
async function* jobStates(snapshot: JobRecord, feed: AsyncIterableIterator<JobRecord>, afterSequence: number): AsyncGenerator<JobRecord> {
  let seen = afterSequence;
  if (snapshot.sequence > seen) {
    yield snapshot;
    seen = snapshot.sequence;
  }
  if (isTerminal(snapshot.status)) return;
  for await (const job of feed) {
    if (job.sequence > seen) {
      yield job;
      seen = job.sequence;
    }
    if (isTerminal(job.status)) return; // the end, even when the caller claims to have seen more
  }
}

/**
 * jobStates, closable at any time: a generator waiting for the feed would only run its cleanup
 * after the job's next change, so closing ends the feed first, which lets the generator finish.
 */
function followJob(snapshot: JobRecord, feed: AsyncIterableIterator<JobRecord>, afterSequence: number): AsyncIterableIterator<JobRecord> {
  const states = jobStates(snapshot, feed, afterSequence);
  const close = async () => {
    await feed.return?.();
    return states.return(undefined);
  };
  return {
    next: async () => {
      const result = await states.next();
      if (result.done) await feed.return?.();
      return result;
    },
    return: close,
    throw: async (error: unknown) => {
      await feed.return?.();
      return states.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

builder.subscriptionType({
  fields: (t) => ({
    jobProgress: t.field({
      type: Job,
      description:
        'First the job as it is now (only when its sequence is newer than afterSequence), then one event per coalesced change; always delivers the terminal state, then completes',
      args: { id: t.arg.id({ required: true }), afterSequence: t.arg.int() },
      subscribe: async (_root, { id, afterSequence }, { workspace, services }) => {
        // Listen before reading the snapshot, so that no change falls between the two.
        const feed = jobFeed(services.feeds, { accepts: (job) => job.id === id, maxPerSecond: services.config.subscriptionEventsPerSecond });
        const snapshot = await jobOfWorkspace(String(id), workspace, services.jobs).catch(async (error) => {
          await feed.return?.();
          throw error;
        });
        if (!snapshot) {
          void feed.return?.();
          throw notFound();
        }
        return followJob(snapshot, feed, afterSequence ?? Number.NEGATIVE_INFINITY);
      },
      resolve: (job) => job,
    }),
    jobUpdates: t.field({
      type: Job,
      description: "Every change of any job of the caller's workspace, coalesced per job, filtered by status when given",
      args: { status: t.arg({ type: [JobStatus] }) },
      subscribe: (_root, { status }, { workspace, services }) => {
        const statuses = status && status.length > 0 ? new Set(status) : null;
        return jobFeed(services.feeds, {
          accepts: (job) => job.workspace === workspace && (statuses === null || statuses.has(job.status)),
          maxPerSecond: services.config.subscriptionEventsPerSecond,
        });
      },
      resolve: (job) => job,
    }),
  }),
});
