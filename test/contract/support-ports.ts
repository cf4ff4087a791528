import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Job } from '../../src/jobs/model';
import type { Engine } from '../../src/ports/engine';
import type { Delivery } from '../../src/webhooks/model';
import { type EngineUnderTest, type OpenedEngine, openForEachTest } from './engines';
import { WORKSPACE, claim, createJob, jobOptions } from './fixtures';

/** A fresh engine for every test of the enclosing suite, closed after it. */
export function freshEngine(spec: EngineUnderTest): () => OpenedEngine {
  let opened: OpenedEngine | undefined;
  openForEachTest(spec, (current) => (opened = current));
  return () => {
    if (!opened) throw new Error('no engine is open outside a test');
    return opened;
  };
}

/** Waits until `check` holds (for engines that deliver asynchronously), failing after `timeoutMs`. */
export async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface EndedJob {
  job: Job;
  deliveries: Delivery[];
}

/**
 * Ends a new job at `at` the way the product does: created with `webhookUrl`, claimed, then moved
 * to COMPLETED (publishing its rows), which writes the outbox rows announcing it in the same step.
 * Each job has a dataset of its own, so that no other job keeps it from being claimed.
 */
export async function completeJob(engine: Engine, at: number, { webhookUrl = 'https://hooks.example.com/job' as string | null, workspace = WORKSPACE } = {}): Promise<EndedJob> {
  const created = await createJob(engine, `ds_${randomUUID()}`, { workspace, options: jobOptions({ webhookUrl }) });
  const running = await claim(engine);
  expect(running.id).toBe(created.id);
  const job = await engine.jobs.transition(running, 'COMPLETED', { stage: 'done', completedAt: at }, 'publish', at);
  if (!job) throw new Error('the transition to COMPLETED lost');
  return { job, deliveries: await engine.webhooks.forJob(job.num) };
}

/** One delivery (to a job's webhookUrl) due at `at`, in a store where no endpoint asks for job.completed. */
export async function deliveryDueAt(engine: Engine, at: number): Promise<Delivery> {
  const { deliveries } = await completeJob(engine, at);
  expect(deliveries).toHaveLength(1);
  expect(deliveries[0].nextAttemptAt).toBe(at);
  return deliveries[0];
}

export const ids = (deliveries: readonly Delivery[]): string[] => deliveries.map((delivery) => delivery.id);
