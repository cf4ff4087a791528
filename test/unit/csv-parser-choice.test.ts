import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import type { CsvOptions } from '../../src/jobs/model';
import { openSource, type SourceSpec } from '../../src/ingest/open-source';
import type { RowSource, SourceBurst, SourceItem, SourcePosition } from '../../src/ingest/source';
import { START } from '../../src/ingest/source';
import { writeText } from '../helpers/files';

const CSV: CsvOptions = { delimiter: null, quote: '"', header: true, encoding: 'utf-8' };
const { maxColumns, zipLimits, issueLimits } = loadConfig({});
const LIMITS = { maxRecordBytes: 1024 ** 2, maxColumns, zip: zipLimits, issues: issueLimits };

function spec(path: string, csv: Partial<CsvOptions> = {}): SourceSpec {
  return { path, format: 'CSV', csv: { ...CSV, ...csv }, sheet: null, limits: LIMITS, skipRows: 0 };
}

async function drain(source: RowSource, from: SourcePosition = START): Promise<SourceBurst[]> {
  const bursts: SourceBurst[] = [];
  for await (const burst of source.items(from)) bursts.push(burst);
  return bursts;
}

describe('the CSV source picks its parser by the format, and says which in its messages', () => {
  it('reads UTF-8 with a one-byte delimiter and quote with the tokenizer', async () => {
    const path = await writeText('plain.csv', 'id;name\n1;"Zoë; ""Z"""\n');
    const source = await openSource(spec(path));
    expect(source.messages).toMatchObject({ parser: 'sluice', delimiter: ';' });
    expect((await drain(source)).flatMap((burst) => burst.items)).toEqual([
      { kind: 'row', row: 0, cells: ['id', 'name'] },
      { kind: 'row', row: 1, cells: ['1', 'Zoë; "Z"'] },
    ]);
  });

  it.each([
    ['a delimiter of several bytes', Buffer.from('id§name\n1§"a§b"\n'), { delimiter: '§' }, 'a§b'],
    ['UTF-16LE', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\r\n1,"a,b"\r\n', 'utf16le')]), {}, 'a,b'],
    ['windows-1252', Buffer.from('id,name\n1,"é,b"\n', 'latin1'), { encoding: 'windows-1252' }, 'é,b'],
  ])('falls back to csv-parse for %s', async (_what, content, csv, cell) => {
    const source = await openSource(spec(await writeText('other.csv', content), csv));
    expect(source.messages).toMatchObject({ parser: 'csv-parse' });
    expect((await drain(source)).flatMap((burst) => burst.items).at(-1)).toEqual({ kind: 'row', row: 1, cells: ['1', cell] });
  });

  it('resumes from any burst position of the tokenizer exactly where it stopped (multi-byte text, quoted line ends, malformed records)', async () => {
    const line = (i: number) => (i % 97 === 0 ? `${i},"bad"quote,x` : i % 5 === 0 ? `${i},"multi\r\nline ""${'é'.repeat(i % 7)}""",☃` : `${i},name ${i},${'€'.repeat(i % 3)}`);
    const text = ['id,name,note', ...Array.from({ length: 20_000 }, (_, i) => line(i + 1))].join('\r\n');
    const path = await writeText('resume.csv', text);
    const whole = await drain(await openSource(spec(path)));
    const items = whole.flatMap((burst) => burst.items);
    expect(items.filter((item) => item.kind === 'malformed')).toHaveLength(206);
    expect(items.at(-1)).toEqual({ kind: 'row', row: 20_000, cells: ['20000', 'multi\r\nline "é"', '☃'] });
    expect(whole.length).toBeGreaterThan(5);
    // Verdicts name lines counted from where reading starts, as csv-parse's did: a resumed read counts from its position.
    const withoutLines = (list: SourceItem[]) => list.map((item) => (item.kind === 'malformed' ? { ...item, message: item.message.replace(/at line \d+/, '') } : item));
    for (const burst of [whole[1], whole[Math.floor(whole.length / 2)], whole.at(-2)!]) {
      const rest = (await drain(await openSource(spec(path)), burst.after)).flatMap((b) => b.items);
      expect(withoutLines(rest)).toEqual(withoutLines([items[0], ...items.filter((item) => item.row >= burst.after.nextRow)]));
    }
  });
});

describe('a record with several faults is one malformed item, whichever parser reads it', () => {
  const rows = ['1,a"b,c"d', '"2"x,"y"z', '3,ok', 'e"f,4', 'g"h,5', '6,ok'];
  it.each([
    ['the tokenizer', {}, (text: string) => Buffer.from(text), 'sluice'],
    ['csv-parse', { encoding: 'windows-1252' }, (text: string) => Buffer.from(text, 'latin1'), 'csv-parse'],
  ])('%s: two stray quotes in one record are one item, and two malformed records in a row are two', async (_what, csv, encode, parser) => {
    const source = await openSource(spec(await writeText('faults.csv', encode(['id,name', ...rows].join('\n'))), csv));
    expect(source.messages).toMatchObject({ parser });
    const items = (await drain(source)).flatMap((burst) => burst.items);
    expect(items.map((item) => [item.kind, item.row])).toEqual([
      ['row', 0],
      ['malformed', 1],
      ['malformed', 2],
      ['row', 3],
      ['malformed', 4],
      ['malformed', 5],
      ['row', 6],
    ]);
    expect(items.filter((item) => item.kind === 'malformed').map((item) => (item as { message: string }).message.split(':')[0])).toEqual([
      'Invalid Opening Quote',
      'Invalid Closing Quote',
      'Invalid Opening Quote',
      'Invalid Opening Quote',
    ]);
  });
});
