import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeText } from '../helpers/files';
import { ingest } from '../helpers/queries';
import { startReceiver } from '../helpers/receiver';
import { startServer, type TestServer, until } from '../helpers/server';

// GET /metrics in Prometheus's text format, scraped from a real server after a real job: what an
// operator's Prometheus would read.

/** One sample line: its name, its labels, its value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The value of the one sample named so whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(server: TestServer): Promise<{ response: Response; samples: Sample[] }> {
  const response = await fetch(new URL('/metrics', server.url));
  return { response, samples: response.ok ? parseSamples(await response.text()) : [] };
}

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ webhookAllowPrivate: true, webhookRetryDelaysMs: [50, 50] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('counts the jobs by status, the rows, bytes, durations and queue wait of the jobs run here, and webhook attempts by outcome, labelled with the instance', async () => {
    const receiver = await startReceiver((n) => (n === 0 ? 500 : 200));
    try {
      const path = await writeText('metrics.csv', 'id,name\n1,one\nnot-a-number,two\n3,three\n');
      const columns = [{ name: 'id', type: 'INTEGER' as const, required: true }, { name: 'name', type: 'STRING' as const }];
      const job = await ingest(server.client, { dataset: 'measured', columns, webhookUrl: receiver.url }, path);
      expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 2, rowsRejected: 1 } });
      await until(async () => receiver.requests.length, (n) => n === 2, 'the webhook to be retried once and delivered');

      const { response, samples } = await until(
        () => scrape(server),
        // The job stays active until its worker thread has exited, which may come after the delivery.
        ({ samples: s }) => valueOf(s, 'sluice_webhook_deliveries_total', { outcome: 'delivered' }) === 1 && valueOf(s, 'sluice_jobs_active') === 0,
        'the delivery to be counted and the job to leave the active ones',
      );
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const { instance } = (await (await fetch(new URL('/health', server.url))).json()) as { instance: string };
      expect(new Set(samples.map((s) => s.labels.instance))).toEqual(new Set([instance]));

      expect(valueOf(samples, 'sluice_jobs', { status: 'COMPLETED' })).toBe(1);
      expect(valueOf(samples, 'sluice_jobs', { status: 'PENDING' })).toBe(0);
      expect(valueOf(samples, 'sluice_rows_ingested_total', { outcome: 'written' })).toBe(2);
      expect(valueOf(samples, 'sluice_rows_ingested_total', { outcome: 'rejected' })).toBe(1);
      expect(valueOf(samples, 'sluice_bytes_ingested_total')).toBe((await stat(path)).size);
      expect(valueOf(samples, 'sluice_job_duration_seconds_count', { status: 'COMPLETED' })).toBe(1);
      expect(valueOf(samples, 'sluice_job_duration_seconds_sum', { status: 'COMPLETED' })).toBeGreaterThan(0);
      expect(valueOf(samples, 'sluice_job_queue_wait_seconds_count')).toBe(1);
      expect(valueOf(samples, 'sluice_webhook_deliveries_total', { outcome: 'retrying' })).toBe(1);
      expect(valueOf(samples, 'sluice_webhook_deliveries_total', { outcome: 'failed' })).toBeUndefined();
      expect(valueOf(samples, 'sluice_jobs_active')).toBe(0);
      expect(valueOf(samples, 'sluice_subscriptions')).toBe(0);
      expect(valueOf(samples, 'sluice_process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      await receiver.close();
    }
  });

  it('needs no API key, and answers HEAD without a body', async () => {
    const head = await fetch(new URL('/metrics', server.url), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('is not served with SLUICE_METRICS=off', async () => {
    const quiet = await startServer({ metricsEnabled: false });
    try {
      const { response } = await scrape(quiet);
      expect(response.status).not.toBe(200);
      expect(await response.text()).not.toContain('sluice_jobs');
    } finally {
      await quiet.stop();
    }
  });
});
