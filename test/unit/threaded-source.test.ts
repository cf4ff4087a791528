import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { openSource, type SourceSpec } from '../../src/ingest/open-source';
import { type RowSource, type SourcePosition, START } from '../../src/ingest/source';
import { IngestError } from '../../src/ingest/ingest-error';
import { isStorageFault } from '../../src/ingest/storage-fault';
import { threadedSource } from '../../src/ingest/threaded-source';
import { tempDir, writeGeneratedCsv, writeText } from '../helpers/files';

const CSV = { delimiter: null, quote: '"', header: true, encoding: 'utf-8' };
const { maxColumns, zipLimits, issueLimits } = loadConfig({});
const LIMITS = { maxRecordBytes: 1024 ** 2, maxColumns, zip: zipLimits, issues: issueLimits };

function spec(path: string, overrides: Partial<SourceSpec> = {}): SourceSpec {
  return { path, format: 'CSV', csv: CSV, sheet: null, limits: LIMITS, skipRows: 0, ...overrides };
}

/** Everything a source yields from a position: every burst as it came, and the bytes read at the end. */
async function drain(source: RowSource, from: SourcePosition = START) {
  const bursts = [];
  for await (const burst of source.items(from)) bursts.push(burst);
  return { messages: source.messages, bursts, bytesRead: source.bytesRead() };
}

async function failure(read: Promise<unknown>): Promise<unknown> {
  return read.then(
    () => expect.unreachable('the read should have failed'),
    (error: unknown) => error,
  );
}

/** 30,000 records with quoted commas, quoted line breaks, doubled quotes and multi-byte text; every 997th has a stray quote. */
async function mixedCsv(): Promise<string> {
  const path = join(await tempDir(), 'mixed.csv');
  await writeGeneratedCsv(path, 'id;name;note', 30_000, (i) =>
    i % 997 === 0 ? `${i};"bad"quote;x` : `${i};"Zoë ${i}; ""the"" one";"line\nbreak ${'é'.repeat(i % 7)}"`,
  );
  return path;
}

describe('threadedSource yields what the source yields, parsed in a thread of its own', () => {
  it('CSV: the same bursts (records, malformed records, positions), messages and byte count, from the start and from a checkpoint', async () => {
    const path = await mixedCsv();
    const inPlace = await drain(await openSource(spec(path)));
    expect(inPlace.bursts.length).toBeGreaterThan(3);
    expect(inPlace.bursts.flatMap((burst) => burst.items).filter((item) => item.kind === 'malformed')).toHaveLength(30);
    expect(await drain(await threadedSource(spec(path)))).toEqual(inPlace);

    const checkpoint = inPlace.bursts[2].after;
    expect(checkpoint.byteOffset).toBeGreaterThan(0);
    expect(await drain(await threadedSource(spec(path)), checkpoint)).toEqual(await drain(await openSource(spec(path)), checkpoint));
  });

  it('CSV in windows-1252: the same records, and the same re-read-and-skip resume', async () => {
    const path = await writeText('latin.csv', Buffer.from('id,name\n1,Zoë\n2,Ångström\n3,Façade\n', 'latin1'));
    const latin = spec(path, { csv: { ...CSV, encoding: 'windows-1252' } });
    const inPlace = await drain(await openSource(latin), { nextRow: 2, byteOffset: null });
    expect(inPlace.bursts.flatMap((burst) => burst.items).map((item) => item.kind === 'row' && item.cells[1])).toEqual(['name', 'Ångström', 'Façade']);
    expect(await drain(await threadedSource(latin), { nextRow: 2, byteOffset: null })).toEqual(inPlace);
  });

  it('XLSX: the same rows with their types (numbers, booleans, dates), and SHEET_NOT_FOUND for a missing sheet', async () => {
    const path = join(await tempDir(), 'book.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('data');
    sheet.addRow(['id', 'name', 'paid', 'on']);
    for (let i = 1; i <= 2_000; i++) sheet.addRow([i, `name ${i}`, i % 2 === 0, new Date(Date.UTC(2024, 0, 1 + (i % 300)))]);
    await workbook.xlsx.writeFile(path);
    const xlsx = spec(path, { format: 'XLSX', sheet: 'data' });
    const inPlace = await drain(await openSource(xlsx));
    expect(inPlace.bursts.flatMap((burst) => burst.items)).toHaveLength(2_001);
    expect(await drain(await threadedSource(xlsx))).toEqual(inPlace);

    const missing = await failure(drain(await threadedSource({ ...xlsx, sheet: 'nope' })));
    expect(missing).toBeInstanceOf(IngestError);
    expect(missing).toMatchObject({ code: 'SHEET_NOT_FOUND' });
  });

  it('passes a typed failure on as the same error: RECORD_TOO_LARGE after the records before it', async () => {
    const path = await writeText('long.csv', `id,text\n1,a\n2,"${'x'.repeat(5_000)}\n3,c\n`);
    const small = spec(path, { limits: { ...LIMITS, maxRecordBytes: 4_096 } });
    const expected = await failure(drain(await openSource(small)));
    const error = await failure(drain(await threadedSource(small)));
    expect(error).toBeInstanceOf(IngestError);
    expect(error).toMatchObject({ code: 'RECORD_TOO_LARGE', message: (expected as Error).message });
  });

  it('passes a storage fault on as one (a file gone before it could be opened)', async () => {
    const path = await writeText('gone.csv', 'id\n1\n');
    await rm(path);
    const error = await failure(threadedSource(spec(path)));
    expect(isStorageFault(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ENOENT' });
  });

  it('stops reading when the consumer stops early, and a new reader starts again from a position', async () => {
    const path = await mixedCsv();
    const source = await threadedSource(spec(path));
    let first;
    for await (const burst of source.items()) {
      first = burst;
      break;
    }
    expect(first!.items[0]).toEqual({ kind: 'row', row: 0, cells: ['id', 'name', 'note'] });
    const rest = await drain(await threadedSource(spec(path)), first!.after);
    expect(rest.bursts.flatMap((burst) => burst.items).at(-1)).toMatchObject({ row: 30_000 });
  });
});
