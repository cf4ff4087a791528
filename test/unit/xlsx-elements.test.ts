import { describe, expect, it } from 'vitest';
import { xmlElements } from '../../src/ingest/xlsx-elements';

async function elements(xml: string, chunkSize: number, name = 'row'): Promise<string[]> {
  const bytes = Buffer.from(xml);
  async function* chunks() {
    for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
  }
  const all: string[] = [];
  for await (const batch of xmlElements(chunks(), name)) all.push(...batch);
  return all;
}

describe('xmlElements', () => {
  const rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>é𝄞 a&gt;b</t></is></c></row>', '<row r="2" spans="1:2"/>', `<row r='3' x="a>b"><c r="B3"><v>3</v></c></row>`, '<row\n r="4"></row>'];
  const xml = `<?xml version="1.0"?><worksheet><rowBreaks/><sheetData>${rows.join('\n')}</sheetData><rows/></worksheet>`;

  it('finds the same whole elements whatever the chunks, characters split between chunks kept whole', async () => {
    for (const size of [1, 2, 3, 5, 7, 64, xml.length]) expect(await elements(xml, size)).toEqual(rows);
  });

  it('keeps only an unfinished element between chunks, and a long one is found once it ends', async () => {
    const long = `<row r="1"><c r="A1" t="inlineStr"><is><t>${'x'.repeat(100_000)}</t></is></c></row>`;
    expect(await elements(`<sheetData>${'y'.repeat(50_000)}${long}</sheetData>`, 1000)).toEqual([long]);
  });
});
