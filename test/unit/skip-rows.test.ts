import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { openSource, type SourceSpec } from '../../src/ingest/open-source';
import { LineSkipper } from '../../src/ingest/skip-lines';
import { type RowSource, type SourceBurst, type SourceItem, type SourcePosition, START } from '../../src/ingest/source';
import { threadedSource } from '../../src/ingest/threaded-source';
import { tempDir, writeGeneratedCsv, writeText, writeWorkbook } from '../helpers/files';

const CSV = { delimiter: null, quote: '"', header: true, encoding: 'utf-8' };
const { maxColumns, zipLimits, issueLimits } = loadConfig({});
const LIMITS = { maxRecordBytes: 1024 ** 2, maxColumns, zip: zipLimits, issues: issueLimits };
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function spec(path: string, overrides: Partial<SourceSpec> = {}): SourceSpec {
  return { path, format: 'CSV', csv: CSV, sheet: null, limits: LIMITS, skipRows: 0, ...overrides };
}

async function drain(source: RowSource, from: SourcePosition = START): Promise<SourceBurst[]> {
  const bursts: SourceBurst[] = [];
  for await (const burst of source.items(from)) bursts.push(burst);
  return bursts;
}

async function items(spec: SourceSpec, from: SourcePosition = START): Promise<SourceItem[]> {
  return (await drain(await openSource(spec), from)).flatMap((burst) => burst.items);
}

function row(number: number, cells: unknown[]): SourceItem {
  return { kind: 'row', row: number, cells } as SourceItem;
}

/** A file of a header `id;name` and `rows` rows `i;name i`, after `preamble`. */
async function generated(preamble: string, rows: number): Promise<string> {
  const path = join(await tempDir(), 'generated.csv');
  await writeGeneratedCsv(path, `${preamble}id;name`, rows, (i) => `${i};"name ${i}, ${'é'.repeat(i % 5)}"`);
  return path;
}

describe('CSV skipRows: the lines before the header are skipped as raw text', () => {
  it('skips a preamble with an unbalanced quote and the other delimiter, and detects the delimiter on the header', async () => {
    const path = await writeText('preamble.csv', 'Report "Q3 2024\ngenerated,at,2024-10-01,10:00,by,me\nid;name;note\n1;Zoë;a\n2;"x;y";b\n');
    const source = await openSource(spec(path, { skipRows: 2 }));
    expect(source.messages).toMatchObject({ delimiter: ';', encoding: 'utf-8' });
    expect((await drain(source)).flatMap((burst) => burst.items)).toEqual([
      row(0, ['id', 'name', 'note']),
      row(1, ['1', 'Zoë', 'a']),
      row(2, ['2', 'x;y', 'b']),
    ]);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['lone CR', '\r'],
  ])('skips a preamble whose lines end with %s (an empty line counts as one)', async (_name, eol) => {
    const text = ['title "', '', 'generated;at;now', 'id,name', '1,a', '2,b', ''].join(eol);
    const path = await writeText('eol.csv', text);
    const bursts = await drain(await openSource(spec(path, { skipRows: 3 })));
    expect(bursts.flatMap((burst) => burst.items)).toEqual([row(0, ['id', 'name']), row(1, ['1', 'a']), row(2, ['2', 'b'])]);
    expect(bursts.at(-1)!.after).toEqual({ nextRow: 3, byteOffset: Buffer.byteLength(text) });
  });

  it('keeps a CRLF whose CR and LF fall in different chunks of the file as one line end', async () => {
    const first = 'x'.repeat(64 * 1024 - 1); // its CR is the last byte of the first 64 KiB read, its LF the first of the next
    const path = await writeText('split.csv', `${first}\r\nid,name\r\n1,a\r\n`);
    expect(await items(spec(path, { skipRows: 1 }))).toEqual([row(0, ['id', 'name']), row(1, ['1', 'a'])]);
  });

  it('skips a UTF-8 byte order mark with the first line, the header starting right after the preamble', async () => {
    const preamble = 'Exported "by" tool\r\n';
    const path = await writeText('bom.csv', Buffer.concat([BOM, Buffer.from(`${preamble}id,naïve\n1,a\n`)]));
    const bursts = await drain(await openSource(spec(path, { skipRows: 1 })));
    expect(bursts.flatMap((burst) => burst.items)).toEqual([row(0, ['id', 'naïve']), row(1, ['1', 'a'])]);
    expect(bursts.at(-1)!.after.byteOffset).toBe((await readFile(path)).length);
  });

  it('skips the lines of a UTF-16LE file (with a byte order mark) in its decoded text, and resumes by re-reading', async () => {
    const text = 'Report "Q3\r\nwhen,where,who,why\r\nid;name\r\n1;Zoë\r\n2;Ångström\r\n3;Façade\r\n';
    const path = await writeText('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const source = await openSource(spec(path, { skipRows: 2 }));
    expect(source.messages).toMatchObject({ delimiter: ';', encoding: 'utf-16le' });
    const bursts = await drain(source);
    expect(bursts.flatMap((burst) => burst.items)).toEqual([row(0, ['id', 'name']), row(1, ['1', 'Zoë']), row(2, ['2', 'Ångström']), row(3, ['3', 'Façade'])]);
    expect(bursts.at(-1)!.after).toEqual({ nextRow: 4, byteOffset: null });
    expect(await items(spec(path, { skipRows: 2 }), { nextRow: 3, byteOffset: null })).toEqual([row(0, ['id', 'name']), row(3, ['3', 'Façade'])]);
  });

  it('skips the lines of a windows-1252 file in its decoded text', async () => {
    const path = await writeText('latin.csv', Buffer.from('Rapport "été\rid|nom\r1|Zoë\r', 'latin1'));
    const latin = spec(path, { skipRows: 1, csv: { ...CSV, encoding: 'windows-1252' } });
    expect(await items(latin)).toEqual([row(0, ['id', 'nom']), row(1, ['1', 'Zoë'])]);
    expect((await openSource(latin)).messages).toMatchObject({ delimiter: '|' });
  });

  it('without a header, the first record after the skipped lines is data row 1', async () => {
    const path = await writeText('headless.csv', 'title\nsub "title\n1,a\n2,b\n');
    const headless = spec(path, { skipRows: 2, csv: { ...CSV, header: false } });
    expect(await items(headless)).toEqual([row(1, ['1', 'a']), row(2, ['2', 'b'])]);
    // Seeking to row 2's absolute offset, and re-reading from the start, both give row 2 alone.
    expect(await items(headless, { nextRow: 2, byteOffset: Buffer.byteLength('title\nsub "title\n1,a\n') })).toEqual([row(2, ['2', 'b'])]);
    expect(await items(headless, { nextRow: 2, byteOffset: null })).toEqual([row(2, ['2', 'b'])]);
  });

  it('resumes from a burst position: the byte offset is the record start in the file, and reading from it gives exactly the rest', async () => {
    const preamble = 'Report "Q3\ngenerated,at,now,by,me\n';
    const path = await generated(preamble, 30_000);
    const bytes = await readFile(path);
    const whole = await drain(await openSource(spec(path, { skipRows: 2 })));
    const all = whole.flatMap((burst) => burst.items);
    expect(all).toHaveLength(30_001);
    expect(all.slice(0, 2)).toEqual([row(0, ['id', 'name']), row(1, ['1', 'name 1, é'])]);
    expect(all.at(-1)).toEqual(row(30_000, ['30000', 'name 30000, ']));
    expect(whole.length).toBeGreaterThan(3);

    const after = whole[2].after;
    expect(after.byteOffset).toBeGreaterThan(Buffer.byteLength(preamble));
    expect(bytes[after.byteOffset! - 1]).toBe(0x0a);
    const start = `${after.nextRow};"name ${after.nextRow}, `;
    expect(bytes.subarray(after.byteOffset!, after.byteOffset! + start.length).toString()).toBe(start);
    const rest = await items(spec(path, { skipRows: 2 }), after);
    expect(rest).toEqual([row(0, ['id', 'name']), ...all.filter((item) => item.row >= after.nextRow)]);
  });

  it('reads a preamble through the reader thread the same way', async () => {
    const path = await generated('Report "Q3\ngenerated,at,now\n', 2_000);
    const inPlace = await drain(await openSource(spec(path, { skipRows: 2 })));
    expect(await drain(await threadedSource(spec(path, { skipRows: 2 })))).toEqual(inPlace);
    const after = inPlace[0].after;
    expect(await drain(await threadedSource(spec(path, { skipRows: 2 })), after)).toEqual(await drain(await openSource(spec(path, { skipRows: 2 })), after));
  });

  it('a file with no more lines than skipRows reads as an empty file does', async () => {
    const empty = await drain(await openSource(spec(await writeText('empty.csv', ''))));
    expect(empty).toEqual([]);
    for (const [content, skipRows] of [
      ['title\nid,name\n1,a\n', 3],
      ['title\nid,name\n1,a', 3],
      ['title\nid,name\n1,a\r', 3],
      ['title\nid,name\n1,a\n', 50],
    ] as const) {
      const path = await writeText('short.csv', content);
      expect(await drain(await openSource(spec(path, { skipRows })))).toEqual(empty);
      expect(await drain(await openSource(spec(path, { skipRows, csv: { ...CSV, header: false } })))).toEqual(empty);
    }
    const utf16 = await writeText('short16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('title\r\nid,name\r\n', 'utf16le')]));
    expect(await drain(await openSource(spec(utf16, { skipRows: 5 })))).toEqual(empty);
  });

  it('skipRows 0 reads the file as before: the first line is the header, a leading BOM is dropped', async () => {
    const text = 'id;name\n1;"a\nb"\n2;c\n';
    const path = await writeText('plain.csv', Buffer.concat([BOM, Buffer.from(text)]));
    const source = await openSource(spec(path, { skipRows: 0 }));
    expect(source.messages).toMatchObject({ delimiter: ';' });
    const bursts = await drain(source);
    expect(bursts.flatMap((burst) => burst.items)).toEqual([row(0, ['id', 'name']), row(1, ['1', 'a\nb']), row(2, ['2', 'c'])]);
    expect(bursts.at(-1)!.after).toEqual({ nextRow: 3, byteOffset: BOM.length + Buffer.byteLength(text) });
  });
});

describe('LineSkipper', () => {
  it('finds where the lines after the skipped ones start however the bytes are split into chunks', () => {
    const bytes = Buffer.from('a\r\n\r\rb\n"c\r\nrest\n');
    const expected = Buffer.byteLength('a\r\n\r\rb\n"c\r\n'); // lines: a, (empty), (empty), b, "c
    for (let split = 0; split <= bytes.length; split++) {
      const skipper = new LineSkipper(5);
      const head = bytes.subarray(0, split);
      const kept = skipper.skip(head);
      const start = kept < head.length ? kept : split + skipper.skip(bytes.subarray(split));
      expect(start, `split at ${split}`).toBe(expected);
    }
  });
});

describe('XLSX skipRows: the sheet rows 1..skipRows are skipped', () => {
  const title = [['Quarterly report'], [], ['generated', 'today'], ['id', 'name']];

  it('takes the first row present after them as the header, numbers data rows from 1, and resumes exactly', async () => {
    const data = Array.from({ length: 1_200 }, (_, i) => [i + 1, `name ${i + 1}`]);
    const path = await writeWorkbook('report.xlsx', { data: [...title, ...data] });
    const xlsx = spec(path, { format: 'XLSX', skipRows: 3 });
    const bursts = await drain(await openSource(xlsx));
    const all = bursts.flatMap((burst) => burst.items);
    expect(all).toEqual([row(0, ['id', 'name']), ...data.map((cells, i) => row(i + 1, cells))]);
    expect(bursts.length).toBeGreaterThan(1);

    const after = bursts[0].after;
    expect(after.nextRow).toBe(bursts[0].items.at(-1)!.row + 1);
    expect(await items(xlsx, after)).toEqual([row(0, ['id', 'name']), ...data.slice(after.nextRow - 1).map((cells, i) => row(after.nextRow + i, cells))]);
  });

  it('counts the sheet’s own row numbers: an absent row is skipped as one, and the header is the next row present', async () => {
    const path = await writeWorkbook('report.xlsx', { data: [...title, [1, 'a']] });
    expect(await items(spec(path, { format: 'XLSX', skipRows: 1 }))).toEqual([row(0, ['generated', 'today']), row(1, ['id', 'name']), row(2, [1, 'a'])]);
    expect(await items(spec(path, { format: 'XLSX', skipRows: 2 }))).toEqual([row(0, ['generated', 'today']), row(1, ['id', 'name']), row(2, [1, 'a'])]);
    expect(await items(spec(path, { format: 'XLSX', skipRows: 10 }))).toEqual([]);
  });

  it('skipRows 0: the first row is the header, as before', async () => {
    const path = await writeWorkbook('report.xlsx', { data: [...title, [1, 'a']] });
    expect(await items(spec(path, { format: 'XLSX', skipRows: 0 }))).toEqual([
      row(0, ['Quarterly report']),
      row(2, ['generated', 'today']),
      row(3, ['id', 'name']),
      row(4, [1, 'a']),
    ]);
  });
});
