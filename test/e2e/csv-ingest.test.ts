import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnInput, IngestDocument } from '../generated/graphql';
import { expectedPerson, PERSON_COLUMNS, PERSON_HEADER, personLine, tempDir, writeGeneratedCsv, writeText } from '../helpers/files';
import { allRows, messagesOf } from '../helpers/queries';
import { startServer, type TestServer, waitForJob } from '../helpers/server';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('CSV ingest', () => {
  it('ingests 10k rows with a column schema, checked value by value', async () => {
    const path = join(await tempDir(), 'people.csv');
    await writeGeneratedCsv(path, PERSON_HEADER, 10_000, personLine);
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'people', columns: PERSON_COLUMNS } }, path, 'people.csv');
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.ingest.userErrors).toEqual([]);
    const accepted = answer.data!.ingest.job!;
    expect(['PENDING', 'RUNNING']).toContain(accepted.status);
    expect(accepted.file).toMatchObject({ name: 'people.csv', format: 'CSV' });

    const job = await waitForJob(server.client, accepted.id);
    expect(job.status).toBe('COMPLETED');
    expect(job.progress).toMatchObject({ processedRows: 10_000, totalRows: 10_000, rowsWritten: 10_000, rowsRejected: 0, percent: 100 });
    expect(job.progress.bytesRead).toBe(job.progress.totalBytes);
    expect(job.result).toMatchObject({ rowsWritten: 10_000, rowsRejected: 0 });
    expect(job.issueCounts).toEqual({ errors: 0, warnings: 0 });
    expect(messagesOf(job)).toMatchObject({ format: 'CSV', delimiter: ',', encoding: 'utf-8' });

    const rows = await allRows(server.client, 'people');
    expect(rows).toHaveLength(10_000);
    rows.forEach((row, i) => expect(row.values).toEqual(expectedPerson(i + 1)));
  });

  it('honours delimiter, quote, header and encoding options and strips a UTF-8 BOM', async () => {
    const columns = [
      { name: 'code', type: 'STRING' },
      { name: 'label', type: 'STRING' },
    ] as ColumnInput[];
    const semicolons = await writeText('semi.csv', "\uFEFFcode;label\nA;'x; y'\nB;'it''s'\n");
    const first = await server.client.upload(IngestDocument, { input: { dataset: 'semi', columns, csv: { delimiter: ';', quote: "'" } } }, semicolons);
    expect((await waitForJob(server.client, first.data!.ingest.job!.id)).status).toBe('COMPLETED');
    expect((await allRows(server.client, 'semi')).map((r) => r.values)).toEqual([
      { code: 'A', label: 'x; y' },
      { code: 'B', label: "it's" },
    ]);

    const noHeader = await writeText('plain.csv', 'C,third\n');
    const second = await server.client.upload(IngestDocument, { input: { dataset: 'semi', columns, csv: { header: false } } }, noHeader);
    expect((await waitForJob(server.client, second.data!.ingest.job!.id)).status).toBe('COMPLETED');

    const latin = await writeText('latin.csv', Buffer.from('code,label\nD,caf\xe9\n', 'latin1'));
    const third = await server.client.upload(IngestDocument, { input: { dataset: 'semi', columns, csv: { encoding: 'windows-1252' } } }, latin);
    expect((await waitForJob(server.client, third.data!.ingest.job!.id)).status).toBe('COMPLETED');

    const utf16 = await writeText('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('code,label\nE,naïve ☃\n', 'utf16le')]));
    const fourth = await server.client.upload(IngestDocument, { input: { dataset: 'semi', columns, csv: { encoding: 'utf-16le' } } }, utf16);
    expect((await waitForJob(server.client, fourth.data!.ingest.job!.id)).status).toBe('COMPLETED');

    expect((await allRows(server.client, 'semi')).map((r) => r.values)).toEqual([
      { code: 'A', label: 'x; y' },
      { code: 'B', label: "it's" },
      { code: 'C', label: 'third' },
      { code: 'D', label: 'café' },
      { code: 'E', label: 'naïve ☃' },
    ]);
  });

  it('detects a semicolon or tab delimiter when none is given', async () => {
    const tabs = await writeText('tabs.tsv', 'a\tb\n1\t2\n');
    const answer = await server.client.upload(IngestDocument, { input: { dataset: 'tabs' } }, tabs);
    const job = await waitForJob(server.client, answer.data!.ingest.job!.id);
    expect(job.status).toBe('COMPLETED');
    expect(job.messages).toContainEqual({ key: 'delimiter', value: '\\t' });
    expect((await allRows(server.client, 'tabs')).map((r) => r.values)).toEqual([{ a: 1, b: 2 }]);
  });
});
