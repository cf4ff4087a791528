import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnInput, DatasetColumnRulesDocument } from '../generated/graphql';
import { writeText, writeWorkbook } from '../helpers/files';
import { type IngestFileInput, ingest, jobCount, messagesOf, submitRefused } from '../helpers/queries';
import { errorIssue as error, issueViews, jobIssues, smallDataset, warningIssue as warning } from '../helpers/results';
import { startServer, type TestServer } from '../helpers/server';

// How a file is read: which header cell is which column, which texts are empty, which lines come
// before the header, and the layout of dates. Small batches, so that a few rows span several commits.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ batchRows: 2 });
});
afterAll(async () => {
  await server?.stop();
});

const csv = (...lines: string[]) => `${lines.join('\n')}\n`;

async function ingestCsv(dataset: string, content: string, input: Omit<IngestFileInput, 'dataset'> = {}) {
  return ingest(server.client, { dataset, ...input }, await writeText(`${dataset}.csv`, content), `${dataset}.csv`);
}

describe('header matching', () => {
  const columns: ColumnInput[] = [
    { name: 'id', type: 'INTEGER', required: true },
    { name: 'name', type: 'STRING', required: true, aliases: ['Full Name', 'Customer'] },
    { name: 'email', type: 'EMAIL', aliases: ['E-Mail', 'mail'] },
  ];

  it('matches headers to names and aliases trimmed and in any case, and reports the mapping', async () => {
    const job = await ingestCsv('h-aliases', csv(' ID ,e-mail,FULL NAME,notes', '1,a@example.com,Ann,x', '2,b@example.com,Bob,y'), { columns });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 2, rowsRejected: 0 } });
    expect(messagesOf(job).mapping).toBe('id ← "ID" (1), name ← "FULL NAME" (3), email ← "e-mail" (2)');
    expect(await issueViews(server.client, job.id)).toEqual([warning('EXTRA_COLUMN', 'notes')]);
    expect((await smallDataset(server.client, 'h-aliases')).values).toEqual([
      { id: 1, name: 'Ann', email: 'a@example.com' },
      { id: 2, name: 'Bob', email: 'b@example.com' },
    ]);
  });

  it('reads the first of two header cells that name one column and warns about the other', async () => {
    const job = await ingestCsv('h-twice', csv('id,mail,name,Email', '1,first@example.com,Ann,second@example.com'), { columns });
    expect(job.status).toBe('COMPLETED');
    expect(messagesOf(job).mapping).toBe('id ← "id" (1), name ← "name" (3), email ← "mail" (2)');
    const issues = await jobIssues(server.client, job.id);
    expect(issues.map(({ message: _message, ...rest }) => rest)).toEqual([warning('DUPLICATE_HEADER', 'email')]);
    expect(issues[0].message).toBe('header cell 4 ("Email") also names column "email", read from cell 2 ("mail"); it is ignored');
    expect((await smallDataset(server.client, 'h-twice')).values).toEqual([{ id: 1, name: 'Ann', email: 'first@example.com' }]);
  });

  it('keeps aliases and formats with the dataset: a later job sent without columns reads its file with them', async () => {
    const declared: ColumnInput[] = [...columns, { name: 'since', type: 'DATE', format: 'DD/MM/YYYY' }];
    const first = await ingestCsv('h-kept', csv('id,Customer,since', '1,Ann,31/01/2024'), { columns: declared });
    expect(first.status).toBe('COMPLETED');
    const { dataset } = await server.client.request(DatasetColumnRulesDocument, { name: 'h-kept' });
    expect(dataset!.columns.map(({ name, aliases, format }) => ({ name, aliases, format }))).toEqual([
      { name: 'id', aliases: null, format: null },
      { name: 'name', aliases: ['Full Name', 'Customer'], format: null },
      { name: 'email', aliases: ['E-Mail', 'mail'], format: null },
      { name: 'since', aliases: null, format: 'DD/MM/YYYY' },
    ]);
    const later = await ingestCsv('h-kept', csv('ID,full name,MAIL,since', '2,Bob,b@example.com,29/02/2024'));
    expect(later).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1 } });
    expect((await smallDataset(server.client, 'h-kept')).values).toEqual([
      { id: 1, name: 'Ann', email: null, since: '2024-01-31' },
      { id: 2, name: 'Bob', email: 'b@example.com', since: '2024-02-29' },
    ]);
  });
});

describe('null values', () => {
  const columns: ColumnInput[] = [
    { name: 'id', type: 'INTEGER', required: true },
    { name: 'score', type: 'DECIMAL' },
    { name: 'label', type: 'STRING', required: true },
  ];

  it('reads the listed texts as empty: null in an optional column, REQUIRED in a required one; other cases are values', async () => {
    const content = csv('id,score,label', '1,NA,a', '2, NULL ,b', '3,-,c', '4,1.5,NA', '5,na,e', '6,,f');
    const job = await ingestCsv('n-markers', content, { columns, nullValues: ['NA', 'NULL', '-'] });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 4, rowsRejected: 2 } });
    expect(await issueViews(server.client, job.id)).toEqual([error('REQUIRED', 4, 'label', 'NA'), error('TYPE_MISMATCH', 5, 'score', 'na')]);
    expect((await smallDataset(server.client, 'n-markers')).values).toEqual([
      { id: 1, score: null, label: 'a' },
      { id: 2, score: null, label: 'b' },
      { id: 3, score: null, label: 'c' },
      { id: 6, score: null, label: 'f' },
    ]);
  });

  it('without nullValues only blank cells are empty: "NA" is a text', async () => {
    const job = await ingestCsv('n-default', csv('id,score,label', '1,,NA'), { columns });
    expect((await smallDataset(server.client, 'n-default')).values).toEqual([{ id: 1, score: null, label: 'NA' }]);
    expect(job.status).toBe('COMPLETED');
  });

  it('infers columns as if the listed texts were blank', async () => {
    const job = await ingestCsv('n-infer', csv('n,when', '1,2024-01-01', 'NA,NA', '3,2024-01-03'), { nullValues: ['NA'] });
    expect(job.status).toBe('COMPLETED');
    expect((await smallDataset(server.client, 'n-infer')).columns).toEqual([
      { name: 'n', type: 'INTEGER', required: false },
      { name: 'when', type: 'DATE', required: false },
    ]);
  });

  it('applies to XLSX text cells', async () => {
    const path = await writeWorkbook('n-xlsx.xlsx', { Sheet1: [['id', 'score', 'label'], [1, 'NA', 'a'], [2, 2.5, 'NA']] });
    const job = await ingest(server.client, { dataset: 'n-xlsx', columns, nullValues: ['NA'] }, path);
    expect(await issueViews(server.client, job.id)).toEqual([error('REQUIRED', 2, 'label', 'NA')]);
    expect((await smallDataset(server.client, 'n-xlsx')).values).toEqual([{ id: 1, score: null, label: 'a' }]);
  });
});

describe('skipRows', () => {
  const columns: ColumnInput[] = [
    { name: 'id', type: 'INTEGER', required: true },
    { name: 'name', type: 'STRING' },
  ];

  it('skips the lines before a CSV header as text, quotes and other delimiters included', async () => {
    const content = csv('Export of "customers', 'generated;2024-01-31;by;report', 'id,name', '1,Ann', '2,"Bob, Jr."');
    const job = await ingestCsv('s-csv', content, { columns, skipRows: 2 });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 2, rowsRejected: 0 }, issueCounts: { errors: 0, warnings: 0 } });
    expect(messagesOf(job).delimiter).toBe(',');
    expect((await smallDataset(server.client, 's-csv')).values).toEqual([
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bob, Jr.' },
    ]);
  });

  it('numbers data rows from the header after the skipped lines', async () => {
    const job = await ingestCsv('s-rows', csv('title', '', 'id,name', '1,a', 'x,b'), { columns, skipRows: 2 });
    expect(await issueViews(server.client, job.id)).toEqual([error('TYPE_MISMATCH', 2, 'id', 'x')]);
  });

  it('skips the sheet rows before an XLSX header', async () => {
    const path = await writeWorkbook('s-xlsx.xlsx', { Sheet1: [['Quarterly export'], [], ['id', 'name'], [1, 'Ann'], ['x', 'Bob']] });
    const job = await ingest(server.client, { dataset: 's-xlsx', columns, skipRows: 2 }, path);
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 1, rowsRejected: 1 } });
    expect(await issueViews(server.client, job.id)).toEqual([error('TYPE_MISMATCH', 2, 'id', 'x')]);
  });
});

describe('date layouts', () => {
  it('reads DATE and DATETIME texts in the column\'s layout and stores ISO values; others are TYPE_MISMATCH naming the layout', async () => {
    const columns: ColumnInput[] = [
      { name: 'id', type: 'INTEGER', required: true },
      { name: 'day', type: 'DATE', format: 'DD/MM/YYYY' },
      { name: 'at', type: 'DATETIME', format: 'MM/DD/YYYY HH:mm' },
    ];
    const content = csv('id,day,at', '1,31/01/2024,01/31/2024 23:05', '2,2024-01-31,', '3,,13/01/2024 10:00', '4,29/02/2024,02/29/2024 00:00');
    const job = await ingestCsv('d-layouts', content, { columns });
    expect(job).toMatchObject({ status: 'COMPLETED', result: { rowsWritten: 2, rowsRejected: 2 } });
    const issues = await jobIssues(server.client, job.id);
    expect(issues.map(({ message: _message, ...rest }) => rest)).toEqual([error('TYPE_MISMATCH', 2, 'day', '2024-01-31'), error('TYPE_MISMATCH', 3, 'at', '13/01/2024 10:00')]);
    expect(issues.map((issue) => issue.message)).toEqual(['day must be a DATE in the layout DD/MM/YYYY', 'at must be a DATETIME in the layout MM/DD/YYYY HH:mm']);
    expect((await smallDataset(server.client, 'd-layouts')).values).toEqual([
      { id: 1, day: '2024-01-31', at: '2024-01-31T23:05:00.000Z' },
      { id: 4, day: '2024-02-29', at: '2024-02-29T00:00:00.000Z' },
    ]);
  });
});

describe('checked at submission', () => {
  it('refuses bad reading options with userErrors, creating no job', async () => {
    const path = await writeText('refused.csv', csv('id', '1'));
    const before = await jobCount(server.client);
    const refused = async (input: Omit<IngestFileInput, 'dataset'>) =>
      (await submitRefused(server.client, { dataset: 'refused', ...input }, path)).map(({ code, field }) => ({ code, field }));
    const column = (extra: Partial<ColumnInput>): ColumnInput => ({ name: 'day', type: 'DATE', ...extra });

    expect(await refused({ skipRows: -1 })).toEqual([{ code: 'INVALID_SKIP_ROWS', field: ['input', 'skipRows'] }]);
    expect(await refused({ nullValues: Array.from({ length: 101 }, (_, i) => `n${i}`) })).toEqual([{ code: 'INVALID_NULL_VALUES', field: ['input', 'nullValues'] }]);
    expect(await refused({ columns: [column({ format: 'DD/MM' })] })).toEqual([{ code: 'INVALID_FORMAT', field: ['input', 'columns', '0', 'format'] }]);
    expect(await refused({ columns: [column({ format: 'DD MMM YYYY' })] })).toEqual([{ code: 'INVALID_FORMAT', field: ['input', 'columns', '0', 'format'] }]);
    expect(await refused({ columns: [column({ type: 'STRING', format: 'DD/MM/YYYY' })] })).toEqual([{ code: 'INVALID_FORMAT', field: ['input', 'columns', '0', 'format'] }]);
    expect(await refused({ columns: [column({ aliases: [' '] })] })).toEqual([{ code: 'INVALID_NAME', field: ['input', 'columns', '0', 'aliases', '0'] }]);
    // A header cell must not be able to name two columns.
    const clash = await submitRefused(server.client, { dataset: 'refused', columns: [{ name: 'email', type: 'EMAIL' }, { name: 'backup', type: 'EMAIL', aliases: ['Mail', 'EMAIL'] }] }, path);
    expect(clash).toEqual([{ code: 'DUPLICATE_ALIAS', field: ['input', 'columns', '1', 'aliases', '1'], message: 'alias "EMAIL" of column "backup" also names column "email"' }]);
    const byName = await submitRefused(server.client, { dataset: 'refused', columns: [{ name: 'a', type: 'STRING', aliases: ['b'] }, { name: 'B', type: 'STRING' }] }, path);
    expect(byName).toEqual([{ code: 'DUPLICATE_ALIAS', field: ['input', 'columns', '1', 'name'], message: 'the name of column "B" also names column "a" (as an alias)' }]);
    expect(await jobCount(server.client)).toBe(before);
  });
});
