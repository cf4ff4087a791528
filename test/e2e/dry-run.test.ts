import { describe, expect, it } from 'vitest';
import { type ColumnInput, DatasetDocument, DatasetsExtraListDocument, JobCountDocument, JobProgressDocument } from '../generated/graphql';
import { csvText, writeText } from '../helpers/files';
import { type IngestFileInput, ingest, submit } from '../helpers/queries';
import { startReceiver } from '../helpers/receiver';
import { errorIssue as error, issueViews, smallDataset } from '../helpers/results';
import { serverForSuite } from '../helpers/server';
import { SubscriptionClient } from '../helpers/subscribe';

// A dry run reads, validates and counts like any job and ends COMPLETED, and the dataset is left
// exactly as it was: no rows, no columns, not even a dataset when the name was new.

const server = serverForSuite({ batchRows: 2, webhookAllowPrivate: true });
const csv = csvText;
const columns: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true, unique: true },
  { name: 'name', type: 'STRING', required: true },
];

async function ingestCsv(dataset: string, content: string, input: Omit<IngestFileInput, 'dataset'> = {}) {
  return ingest(server().client, { dataset, ...input }, await writeText(`${dataset}.csv`, content), `${dataset}.csv`);
}

async function datasetNames(): Promise<string[]> {
  return (await server().client.request(DatasetsExtraListDocument, {})).datasets.map((d) => d.name);
}

describe('a dry run onto a new name', () => {
  it('counts and reports like a real job, creates no dataset, and the name stays free for any shape', async () => {
    const job = await ingestCsv('dry-new', csv('id,name', '1,Ann', 'x,Bob', '3,', '1,Dup', '5,Eve'), { columns, dryRun: true });
    expect(job).toMatchObject({ status: 'COMPLETED', dryRun: true, result: { rowsWritten: 2, rowsRejected: 3 }, progress: { totalRows: 5, percent: 100 } });
    expect(job.dataset).toEqual({ name: 'dry-new', rowCount: 0 });
    expect(await issueViews(server().client, job.id)).toEqual([
      error('TYPE_MISMATCH', 2, 'id', 'x'),
      error('REQUIRED', 3, 'name', null),
      error('UNIQUE', 4, 'id', '1'),
    ]);
    expect((await server().client.request(DatasetDocument, { name: 'dry-new', first: 1 })).dataset).toBeNull();
    expect(await datasetNames()).not.toContain('dry-new');
    expect((await server().client.request(JobCountDocument, { dataset: 'dry-new' })).jobs.totalCount).toBe(1);

    // The dry run's columns were not kept: a real job infers its own.
    const real = await ingestCsv('dry-new', csv('code,when', 'a,2024-01-31'));
    expect(real).toMatchObject({ status: 'COMPLETED', dryRun: false, result: { rowsWritten: 1 } });
    const dataset = await smallDataset(server().client, 'dry-new');
    expect(dataset.columns.map((c) => [c.name, c.type])).toEqual([['code', 'STRING'], ['when', 'DATE']]);
    expect(dataset.values).toEqual([{ code: 'a', when: '2024-01-31' }]);
    expect(await datasetNames()).toContain('dry-new');
    expect((await server().client.request(JobCountDocument, { dataset: 'dry-new' })).jobs.totalCount).toBe(2);
  });

  it('keeps no columns it inferred', async () => {
    const job = await ingestCsv('dry-inferred', csv('n,label', '1,a', '2,b'), { dryRun: true });
    expect(job).toMatchObject({ status: 'COMPLETED', dryRun: true, result: { rowsWritten: 2, rowsRejected: 0 } });
    expect((await server().client.request(DatasetDocument, { name: 'dry-inferred', first: 1 })).dataset).toBeNull();
    const real = await ingestCsv('dry-inferred', csv('n,label', '1,a'), { columns: [{ name: 'n', type: 'STRING' }, { name: 'label', type: 'STRING' }] });
    expect(real).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1 } });
    expect((await smallDataset(server().client, 'dry-inferred')).values).toEqual([{ n: '1', label: 'a' }]);
  });
});

describe('a dry run onto an existing dataset', () => {
  it('validates against the rows it holds and changes nothing of them, in APPEND and REPLACE', async () => {
    expect(await ingestCsv('dry-existing', csv('id,name', '1,Ann', '2,Bob'), { columns })).toMatchObject({ status: 'COMPLETED' });
    const before = await server().client.request(DatasetDocument, { name: 'dry-existing', first: 10 });

    const append = await ingestCsv('dry-existing', csv('id,name', '2,Again', '3,Cy'), { dryRun: true });
    expect(append).toMatchObject({ status: 'COMPLETED', dryRun: true, result: { rowsWritten: 1, rowsRejected: 1 } });
    expect(await issueViews(server().client, append.id)).toEqual([error('UNIQUE', 1, 'id', '2')]);
    const replace = await ingestCsv('dry-existing', csv('id,name', '2,Again', '3,Cy'), { dryRun: true, mode: 'REPLACE' });
    expect(replace).toMatchObject({ status: 'COMPLETED', dryRun: true, result: { rowsWritten: 2, rowsRejected: 0 } });

    expect(await server().client.request(DatasetDocument, { name: 'dry-existing', first: 10 })).toEqual(before);
    const later = await ingestCsv('dry-existing', csv('id,name', '3,Cy'));
    expect(later).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1 } });
    expect((await smallDataset(server().client, 'dry-existing')).values).toEqual([
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bob' },
      { id: 3, name: 'Cy' },
    ]);
  });

  it('fails as the real job would when the file does not fit the dataset, and leaves it as it was', async () => {
    expect(await ingestCsv('dry-shape', csv('id,name', '1,Ann'), { columns })).toMatchObject({ status: 'COMPLETED' });
    const job = await ingestCsv('dry-shape', csv('other', 'x'), { dryRun: true });
    expect(job).toMatchObject({ status: 'FAILED', dryRun: true, error: { code: 'MISSING_COLUMNS' } });
    expect((await smallDataset(server().client, 'dry-shape')).values).toEqual([{ id: 1, name: 'Ann' }]);
  });
});

describe('what a dry run announces', () => {
  it('says so in its webhook event and on its subscription', async () => {
    const receiver = await startReceiver(() => 200);
    const subscriber = new SubscriptionClient(server().url, 'ws', server().apiKey);
    try {
      const path = await writeText('dry-said.csv', csv('id,name', '1,Ann'));
      const job = await submit(server().client, { dataset: 'dry-said', columns, dryRun: true, webhookUrl: receiver.url }, path);
      expect(job.dryRun).toBe(true);
      const received = subscriber.subscribe(JobProgressDocument, { id: job.id });
      await received.done;
      expect(received.events.at(-1)!.data.jobProgress).toMatchObject({ status: 'COMPLETED', dryRun: true });
      expect(received.events.every((event) => event.data.jobProgress.dryRun)).toBe(true);
      await expect.poll(() => receiver.requests.length).toBe(1);
      expect(JSON.parse(receiver.requests[0].body)).toMatchObject({
        type: 'job.completed',
        data: { id: job.id, status: 'COMPLETED', dataset: 'dry-said', dryRun: true, rowsWritten: 1, rowsRejected: 0 },
      });
    } finally {
      await subscriber.dispose();
      await receiver.close();
    }
  });
});
