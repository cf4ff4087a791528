import { describe, expect, it } from 'vitest';
import { type ColumnInput, DatasetDocument } from '../generated/graphql';
import { csvText, writeText } from '../helpers/files';
import { type IngestFileInput, ingest, jobCount, submitRefused } from '../helpers/queries';
import { errorIssue as error, issueViews, jobIssues, smallDataset } from '../helpers/results';
import { serverForSuite } from '../helpers/server';

// UPSERT by a dataset's key: rows whose key the dataset holds replace those rows (or leave them as
// they are when every value is equal), the others are added, and readers see it all at once.

const server = serverForSuite({ batchRows: 2 });
const csv = csvText;
const columns: ColumnInput[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'name', type: 'STRING', required: true },
  { name: 'score', type: 'DECIMAL' },
];

async function ingestCsv(dataset: string, content: string, input: Omit<IngestFileInput, 'dataset'> = {}) {
  return ingest(server().client, { dataset, ...input }, await writeText(`${dataset}.csv`, content), `${dataset}.csv`);
}

async function rowsOf(dataset: string) {
  const { dataset: found } = await server().client.request(DatasetDocument, { name: dataset, first: 100 });
  return found!.rows.edges.map((edge) => edge.node);
}

describe('UPSERT by key', () => {
  it('inserts new keys, replaces rows whose values differ, leaves equal ones as they are, and counts each', async () => {
    const first = await ingestCsv('up-basic', csv('id,name,score', '1,Ann,1.5', '2,Bob,2', '3,Cy,'), { columns, key: ['id'] });
    expect(first).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 3, rowsInserted: 3, rowsUpdated: 0, rowsUnchanged: 0 } });
    const before = await rowsOf('up-basic');

    const job = await ingestCsv('up-basic', csv('id,name,score', '2,Bob,2', '3,Cy,7', '4,Dee,4', '1,Ann,1.5', '5,Eve,'), { mode: 'UPSERT', key: ['id'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 5, rowsRejected: 0, rowsInserted: 2, rowsUpdated: 1, rowsUnchanged: 2 } });
    const after = await rowsOf('up-basic');
    expect(after.map((row) => row.values)).toEqual([
      { id: 1, name: 'Ann', score: 1.5 },
      { id: 2, name: 'Bob', score: 2 },
      { id: 3, name: 'Cy', score: 7 },
      { id: 4, name: 'Dee', score: 4 },
      { id: 5, name: 'Eve', score: null },
    ]);
    // Unchanged rows keep their number; the updated one is a new row.
    expect(after.find((row) => row.values.id === 1)!.row).toBe(before[0].row);
    expect(after.find((row) => row.values.id === 2)!.row).toBe(before[1].row);
    expect(after.find((row) => row.values.id === 3)!.row).toBeGreaterThan(before[2].row);
    expect((await smallDataset(server().client, 'up-basic')).rowCount).toBe(5);
  });

  it('rejects a later row of the file with a key seen before (the first is kept), across batches', async () => {
    await ingestCsv('up-twice', csv('id,name,score', '1,Ann,1'), { columns, key: ['id'] });
    const job = await ingestCsv('up-twice', csv('id,name,score', '1,First,1', '2,Bob,2', '9,x,9', '1,Second,1', '2,Again,2'), { mode: 'UPSERT', key: ['id'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 3, rowsRejected: 2, rowsInserted: 2, rowsUpdated: 1, rowsUnchanged: 0 } });
    expect(await issueViews(server().client, job.id)).toEqual([error('UNIQUE', 4, 'id', '1'), error('UNIQUE', 5, 'id', '2')]);
    expect((await jobIssues(server().client, job.id))[0].message).toBe('the key (id) = (1) appears on an earlier row of the file, which is the one kept');
    expect((await smallDataset(server().client, 'up-twice')).values).toEqual(
      expect.arrayContaining([{ id: 1, name: 'First', score: 1 }, { id: 2, name: 'Bob', score: 2 }, { id: 9, name: 'x', score: 9 }]),
    );
    expect((await smallDataset(server().client, 'up-twice')).rowCount).toBe(3);
  });

  it('rejects a repeated key many batches later, also when the first row with it was unchanged (and so rewrote nothing)', async () => {
    await ingestCsv('up-far', csv('id,name,score', '1,Ann,1', '2,Bob,2'), { columns, key: ['id'] });
    const filler = Array.from({ length: 30_000 }, (_, i) => `${i + 10},n${i},${i}`);
    const job = await ingestCsv('up-far', csv('id,name,score', '1,Ann,1', '2,Bobby,2', ...filler, '1,Late,1', '2,Later,2'), { mode: 'UPSERT', key: ['id'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsInserted: 30_000, rowsUpdated: 1, rowsUnchanged: 1, rowsRejected: 2 } });
    expect(await issueViews(server().client, job.id)).toEqual([error('UNIQUE', 30_003, 'id', '1'), error('UNIQUE', 30_004, 'id', '2')]);
    const { dataset } = await server().client.request(DatasetDocument, { name: 'up-far', first: 2 });
    expect(dataset!.rowCount).toBe(30_002);
    expect(dataset!.rows.edges.map((edge) => edge.node.values)).toEqual([{ id: 1, name: 'Ann', score: 1 }, { id: 2, name: 'Bobby', score: 2 }]);
  });

  it('takes a key of several columns', async () => {
    const keyed: ColumnInput[] = [{ name: 'store', type: 'STRING' }, { name: 'sku', type: 'INTEGER' }, { name: 'stock', type: 'INTEGER' }];
    await ingestCsv('up-composite', csv('store,sku,stock', 'a,1,10', 'a,2,20', 'b,1,30'), { columns: keyed, key: ['sku', 'store'] });
    const { dataset } = await server().client.request(DatasetDocument, { name: 'up-composite', first: 0 });
    expect(dataset).toMatchObject({ rowCount: 3 });
    const job = await ingestCsv('up-composite', csv('store,sku,stock', 'b,1,31', 'b,2,5', 'a,2,20', 'b,2,6'), { mode: 'UPSERT', key: ['store', 'sku'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsInserted: 1, rowsUpdated: 1, rowsUnchanged: 1, rowsRejected: 1 } });
    expect(await issueViews(server().client, job.id)).toEqual([error('UNIQUE', 4, 'store', 'b, 2')]);
    const values = (await smallDataset(server().client, 'up-composite')).values;
    expect(values).toHaveLength(4);
    expect(values).toEqual(expect.arrayContaining([{ store: 'a', sku: 1, stock: 10 }, { store: 'a', sku: 2, stock: 20 }, { store: 'b', sku: 1, stock: 31 }, { store: 'b', sku: 2, stock: 5 }]));
  });

  it('keeps the key UNIQUE in APPEND: a key the dataset holds is rejected; REPLACE is held to the file alone', async () => {
    await ingestCsv('up-append', csv('id,name,score', '1,Ann,1'), { columns, key: ['id'] });
    const append = await ingestCsv('up-append', csv('id,name,score', '1,Again,1', '2,Bob,2'));
    expect(append).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1, rowsRejected: 1, rowsInserted: 1 } });
    expect((await jobIssues(server().client, append.id))[0]).toMatchObject({
      code: 'UNIQUE',
      row: 1,
      message: 'the key (id) = (1) is already in the dataset (mode UPSERT replaces rows by key)',
    });
    const replace = await ingestCsv('up-append', csv('id,name,score', '1,New,1', '1,Dup,1'), { mode: 'REPLACE' });
    expect(replace).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1, rowsRejected: 1 } });
    expect((await smallDataset(server().client, 'up-append')).values).toEqual([{ id: 1, name: 'New', score: 1 }]);
  });

  it('makes key columns required: a row without its key is REQUIRED', async () => {
    const job = await ingestCsv('up-required', csv('id,name,score', ',Ann,1', '2,Bob,2'), { columns, key: ['id'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1, rowsRejected: 1 } });
    expect(await issueViews(server().client, job.id)).toEqual([error('REQUIRED', 1, 'id', null)]);
  });

  it('declares the key with inferred columns; a key naming no inferred column fails the job', async () => {
    const job = await ingestCsv('up-inferred', csv('code,qty', 'a,1', 'b,2'), { key: ['code'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsInserted: 2 } });
    const { dataset } = await server().client.request(DatasetDocument, { name: 'up-inferred', first: 0 });
    expect(dataset).toMatchObject({ rowCount: 2 });
    const again = await ingestCsv('up-inferred', csv('code,qty', 'a,5'), { mode: 'UPSERT', key: ['code'] });
    expect(again).toMatchObject({ status: 'COMPLETED', result: { rowsUpdated: 1 } });
    const failed = await ingestCsv('up-inferred-wrong', csv('code,qty', 'a,1'), { key: ['id'] });
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'UNKNOWN_KEY_COLUMN', message: 'key names no column: "id"' } });
  });

  it('counts what it would do in a dry run and changes nothing', async () => {
    await ingestCsv('up-dry', csv('id,name,score', '1,Ann,1', '2,Bob,2'), { columns, key: ['id'] });
    const before = await rowsOf('up-dry');
    const job = await ingestCsv('up-dry', csv('id,name,score', '1,Ann,1', '2,Bobby,2', '3,Cy,3'), { mode: 'UPSERT', key: ['id'], dryRun: true });
    expect(job).toMatchObject({ status: 'COMPLETED', dryRun: true, result: { rowsWritten: 3, rowsInserted: 1, rowsUpdated: 1, rowsUnchanged: 1 } });
    expect(await rowsOf('up-dry')).toEqual(before);
  });
});

describe('UPSERT checks at submission', () => {
  it('refuses UPSERT without a key, a key naming no column or one twice, and a key that is not the dataset’s, creating no job', async () => {
    await ingestCsv('up-checked', csv('id,name,score', '1,Ann,1'), { columns, key: ['id'] });
    await ingestCsv('up-unkeyed', csv('id,name,score', '1,Ann,1'), { columns });
    const path = await writeText('up-refused.csv', csv('id,name,score', '1,Ann,1'));
    const refused = async (input: IngestFileInput) => (await submitRefused(server().client, input, path)).map(({ code, field }) => ({ code, field }));
    const before = await jobCount(server().client);
    expect(await refused({ dataset: 'up-checked', mode: 'UPSERT' })).toEqual([{ code: 'KEY_REQUIRED', field: ['input', 'key'] }]);
    expect(await refused({ dataset: 'up-new', mode: 'UPSERT', key: ['id'], columns: [{ name: 'code', type: 'STRING' }] })).toEqual([{ code: 'UNKNOWN_KEY_COLUMN', field: ['input', 'key'] }]);
    expect(await refused({ dataset: 'up-checked', mode: 'UPSERT', key: ['nope'] })).toEqual([{ code: 'UNKNOWN_KEY_COLUMN', field: ['input', 'key'] }]);
    expect(await refused({ dataset: 'up-checked', mode: 'UPSERT', key: ['id', 'id'] })).toEqual([{ code: 'INVALID_KEY', field: ['input', 'key'] }]);
    expect(await refused({ dataset: 'up-checked', mode: 'UPSERT', key: [] })).toEqual([{ code: 'INVALID_KEY', field: ['input', 'key'] }]);
    expect(await refused({ dataset: 'up-checked', mode: 'UPSERT', key: ['name'] })).toEqual([{ code: 'KEY_MISMATCH', field: ['input', 'key'] }]);
    expect(await refused({ dataset: 'up-unkeyed', mode: 'UPSERT', key: ['id'] })).toEqual([{ code: 'KEY_MISMATCH', field: ['input', 'key'] }]);
    expect(await jobCount(server().client)).toBe(before);
  });
});
