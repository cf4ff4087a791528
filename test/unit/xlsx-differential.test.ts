// Sluice's XLSX sheet reader against exceljs's streaming reader + plainCell (what xlsxSource used to
// be): the same rows, numbered the same, with the same cells, on workbooks written by exceljs, by
// openpyxl (committed fixtures, see test/fixtures/xlsx/make-openpyxl-fixtures.py) and by hand,
// except where exceljs loses or corrupts a value: each such cell is a documented Difference (what
// exceljs gives, what we give, why), and each kind is pinned on its own at the end.
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { tempDir, writeWorkbook } from '../helpers/files';
import { cellAt, comparableRows, type Difference, exceljsRows, sluiceRows, withDifferences } from '../helpers/xlsx-differential';
import { type HandWorkbook, writeHandWorkbook } from '../helpers/xlsx-parts';
import { generateXlsx } from '../../scripts/bench/data';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'xlsx');

/** Why Sluice deliberately gives another value than exceljs. */
const WHY = {
  formula: 'a cached formula result is the value, even 0, "" or FALSE, typed by t (exceljs keeps only truthy results, as numbers)',
  decodedOnce: 'str and inlineStr text is decoded once, as XML says (exceljs decodes it twice)',
  runs: 'rich inline text joins all its runs (exceljs keeps the last); a phonetic run is no part of the text (exceljs lets it replace it)',
  broken: 'a cell with no usable value is null (exceljs keeps an object, which plainCell prints as "[object Object]")',
};

const differ = (cell: string, exceljs: Difference['exceljs'], sluice: Difference['sluice'], why: string): Difference => ({ cell, exceljs, sluice, why });

/** Sluice's rows equal exceljs's but at the differences, where each gives what the difference states. */
async function expectSameRows(path: string, differences: readonly Difference[] = []): Promise<void> {
  const exceljs = await exceljsRows(path);
  const sluice = await sluiceRows(path);
  expect(exceljs.length).toBeGreaterThan(0);
  for (const { cell, exceljs: theirs, sluice: ours, why } of differences) {
    expect({ cell, exceljs: cellAt(exceljs, cell) }, why).toEqual({ cell, exceljs: theirs });
    expect({ cell, sluice: cellAt(sluice, cell) }, why).toEqual({ cell, sluice: ours });
  }
  expect(comparableRows(sluice)).toEqual(comparableRows(withDifferences(exceljs, differences)));
}

const day = (y: number, m: number, d: number, h = 0, min = 0, s = 0) => new Date(Date.UTC(y, m - 1, d, h, min, s));

/** Every kind of value exceljs writes, in shared strings or inline, with styles that make dates or not. */
async function exceljsWorkbook(path: string, options: { date1904?: boolean; streaming?: boolean; sharedStrings?: boolean }): Promise<void> {
  const streaming = options.streaming ? new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: options.sharedStrings, useStyles: true }) : null;
  const workbook = streaming ?? new ExcelJS.Workbook();
  if (options.date1904 && !streaming) (workbook as ExcelJS.Workbook).properties.date1904 = true;
  const sheet = workbook.addWorksheet('cells');
  const rows: unknown[][] = [
    ['text', 'number', 'bool', 'date', 'rich', 'formula', 'error', 'link'],
    ['plain', 42, true, day(2024, 2, 29), { richText: [{ text: 'bold', font: { bold: true } }, { text: ' plain' }] }, { formula: 'B2*2', result: 84 }, { error: '#N/A' }, { text: 'site', hyperlink: 'https://example.com' }],
    ['<&>"\'', -0.5, false, day(1900, 3, 1, 6, 30), { richText: [{ text: '' }, { text: 'x' }] }, { formula: 'A2&"!"', result: 'plain!' }, { error: '#DIV/0!' }],
    ['&amp;lt; stays?', 1e21, null, day(2038, 1, 19, 3, 14, 7), null, { formula: 'NOW()' }, null, null, 'after empties'],
    [],
    ['line\nbreak\r\nand tab\t', 2 ** 53, true, null, 'Ünïcödé ✓ 𝄞'],
    ['', ' ', '  two  '],
    [null, null, null, null, null, null, null, null, null, null, null, 'column L'],
  ];
  for (const values of rows) sheet.addRow(values);
  sheet.getCell('D9').value = 45000.75;
  sheet.getCell('D9').numFmt = 'dd/mm/yyyy hh:mm';
  sheet.getCell('E9').value = 45000.75;
  sheet.getCell('E9').numFmt = '0.00';
  sheet.getCell('F9').value = 0.5;
  sheet.getCell('F9').numFmt = '[h]:mm';
  sheet.getCell('G9').value = 12;
  sheet.getCell('G9').numFmt = '"day "0';
  sheet.getCell('H9').value = 3;
  sheet.getCell('H9').numFmt = 'mmm-yy';
  sheet.getCell('A10').value = { sharedFormula: 'F2', result: 1 } as ExcelJS.CellValue;
  sheet.getCell('A12').value = 'after a missing row';
  if (!streaming) {
    sheet.getCell('B10').value = { formula: 'A1', shareType: 'shared', ref: 'B10:B11', result: 5 } as ExcelJS.CellValue;
    sheet.getCell('B11').value = { sharedFormula: 'B10', result: 6 } as ExcelJS.CellValue;
    await (workbook as ExcelJS.Workbook).xlsx.writeFile(path);
  } else {
    for (let i = 1; i <= 12; i++) sheet.getRow(i).commit();
    sheet.commit();
    await streaming.commit();
  }
}

describe('the XLSX sheet reader reads as exceljs + plainCell did, but for documented differences', () => {
  describe('workbooks written by exceljs', () => {
    const inline = [differ('E2', ' plain', 'bold plain', WHY.runs), differ('A4', '&lt; stays?', '&amp;lt; stays?', WHY.decodedOnce)];
    for (const [name, options, differences] of [
      ['in memory', {}, []],
      ['in memory, 1904 dates', { date1904: true }, []],
      ['streaming, inline strings', { streaming: true, sharedStrings: false }, inline],
      ['streaming, shared strings stored after the sheet', { streaming: true, sharedStrings: true }, []],
    ] as const) {
      it(name, async () => {
        const path = join(await tempDir(), 'exceljs.xlsx');
        await exceljsWorkbook(path, options);
        await expectSameRows(path, differences);
      });
    }

    it("the bench's workbook, smaller: strings shared, stored after the sheet, many chunks of each part", async () => {
      const path = join(await tempDir(), 'bench.xlsx');
      await generateXlsx(path, 5_000);
      await expectSameRows(path);
    });

    it('many rows through writeWorkbook, the helper the end-to-end tests use', async () => {
      const rows = Array.from({ length: 3000 }, (_, i) => [i, `name ${i % 97}`, i % 3 === 0 ? null : day(2020, 1, 1 + (i % 28)), i % 2 === 0, `x${'y'.repeat(i % 300)}`]);
      await expectSameRows(await writeWorkbook('many.xlsx', { data: [['id', 'name', 'day', 'even', 'text'], ...rows] }));
    });
  });

  describe('workbooks written by openpyxl', () => {
    for (const file of ['openpyxl-types.xlsx', 'openpyxl-1904.xlsx', 'openpyxl-write-only.xlsx']) {
      it(file, async () => expectSameRows(join(FIXTURES, file)));
    }
  });

  describe('hand-written XML', () => {
    const cases: Record<string, HandWorkbook & { differences?: Difference[] }> = {
      'inline strings, plain, rich, pretty-printed, with entities and character references': {
        rows:
          '<row r="1"><c r="A1" t="inlineStr"><is><t>plain</t></is></c><c r="B1" t="inlineStr"><is><r><t>one</t></r><r><rPr><b/></rPr><t xml:space="preserve"> two</t></r></is></c>' +
          '<c r="C1" t="inlineStr">\n  <is>\n    <t>pretty</t>\n  </is>\n</c><c r="D1" t="inlineStr"><is><t>&lt;a&gt; &amp; &quot;b&quot; &#233;&#x1D11E; &amp;amp;</t></is></c>' +
          '<c r="E1" t="inlineStr"><is><t></t></is></c><c r="F1" t="inlineStr"><is><t>x<![CDATA[cdata]]>y<!-- note -->z</t></is></c></row>',
        differences: [differ('B1', ' two', 'one two', WHY.runs), differ('D1', '<a> & "b" é𝄞 &', '<a> & "b" é𝄞 &amp;', WHY.decodedOnce)],
      },
      'shared strings: plain, rich runs, phonetic runs, empty items, white space between tags, out of range': {
        sharedStrings:
          '<si><t>zero</t></si><si><r><rPr><b/></rPr><t>ri</t></r><r><t>ch</t></r></si><si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>' +
          '<si/><si><t/></si>\n<si>\n  <t>padded</t>\n</si><si><r><t>run</t></r><rPh sb="0" eb="1"><t>ラン</t></rPh></si><si><t xml:space="preserve">  kept  </t></si><si><t>a&amp;b &#x41;</t></si>',
        rows:
          '<row r="1">' + Array.from({ length: 10 }, (_, i) => `<c r="${String.fromCharCode(65 + i)}1" t="s"><v>${i}</v></c>`).join('') + '<c r="K1" t="s"><v>99</v></c><c r="L1" t="s"><v>1</v></c></row>',
        differences: [differ('C1', 'かんじ', '漢字', WHY.runs)],
      },
      'formulas: cached results of every type, shared formulas, none cached': {
        rows:
          '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="C1" t="b"><f>TRUE()</f><v>1</v></c><c r="D1" t="e"><f>1/0</f><v>#DIV/0!</v></c>' +
          '<c r="E1"><f t="shared" ref="E1:E3" si="0">A1*2</f><v>4</v></c><c r="F1"><f>NOW()</f></c><c r="G1" t="str"><f>""</f><v></v></c><c r="H1"><f>0</f><v>0</v></c><c r="I1" t="b"><f>FALSE()</f><v>0</v></c></row>' +
          '<row r="2"><c r="E2"><f t="shared" si="0"/><v>6</v></c><c r="F2"><f t="shared" si="0"/></c><c r="G2"><f t="shared" si="0"/><v>0</v></c><c r="H2" t="str"><f t="shared" si="0"/><v></v></c><c r="I2"><f t="shared" si="0"></f>\n<v>0</v></c></row>',
        differences: [
          differ('C1', 1, true, WHY.formula),
          differ('D1', null, '#DIV/0!', WHY.formula),
          differ('G1', null, '', WHY.formula),
          differ('H1', null, 0, WHY.formula),
          differ('I1', null, false, WHY.formula),
          differ('I2', null, 0, WHY.formula),
        ],
      },
      'empty cells, r skipping columns, rows skipping numbers, cells out of order and repeated': {
        rows:
          '<row r="2" spans="1:5"><c r="A2"/><c r="C2"><v>3</v></c><c r="E2" s="0"/></row><row r="3"/><row r="7"><c r="D7"><v>4</v></c><c r="B7"><v>2</v></c></row>' +
          '<row r="8"><c r="A8"><v>1</v></c><c r="A8"/><c r="B8"><v>2</v></c><c r="B8"><v>5</v></c><c r="$C$8"><v>6</v></c></row><row r="9"><c r="A9"></c><c r="B9"><v></v></c></row>',
      },
      'booleans, errors, dates in t="d", numbers odd and even': {
        rows:
          '<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="b"><v>0</v></c><c r="C1" t="b"><v>yes</v></c><c r="D1" t="e"><v>#N/A</v></c><c r="E1" t="e"><v></v></c>' +
          '<c r="F1" t="d"><v>2024-01-31T10:00:00</v></c><c r="G1" t="n"><v>1.5E3</v></c><c r="H1"><v> 7 </v></c><c r="I1"><v>abc</v></c><c r="J1" t="str"><v>text &amp;amp;</v></c><c r="K1" t="x"><v>9</v></c></row>',
        differences: [differ('E1', '[object Object]', null, WHY.broken), differ('J1', 'text &', 'text &amp;', WHY.decodedOnce)],
      },
      'styles: built-in and custom date formats, escapes and quotes, a row style, s="0" under it, styles that do not exist': {
        numFmts: '<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="&quot;days&quot; 0"/><numFmt numFmtId="166" formatCode="[Red]0.00"/><numFmt numFmtId="167" formatCode="0\\d"/><numFmt numFmtId="22" formatCode="0.0"/>',
        cellXfs: ['0', '14', '164', '165', '166', '167', '22', '47', '27', '3', '15'].map((id) => `<xf numFmtId="${id}"/>`).join(''),
        rows:
          '<row r="1">' + Array.from({ length: 13 }, (_, i) => `<c r="${String.fromCharCode(65 + i)}1" s="${i}"><v>45000.5</v></c>`).join('') + '</row>' +
          '<row r="2" s="1" customFormat="1"><c r="A2"><v>1</v></c><c r="B2" s="0"><v>2</v></c><c r="C2" s="3"><v>3</v></c><c r="D2" s="40"><v>4</v></c><c r="E2" t="b"><v>1</v></c></row>' +
          '<row r="3" s="50"><c r="A3" s="2"><v>-1</v></c><c r="B3" s="2"><v>0</v></c><c r="C3" s="2"><v>2958465.99999</v></c><c r="D3" s="2"><v>x</v></c></row>',
      },
      '1904 dates': {
        date1904: true,
        cellXfs: '<xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="22"/>',
        rows: '<row r="1"><c r="A1" s="1"><v>0</v></c><c r="B1" s="1"><v>1</v></c><c r="C1" s="2"><v>36526.75</v></c><c r="D1"><v>36526</v></c></row>',
      },
      'no shared-strings part, yet t="s" cells; prefixed elements, which exceljs does not read': {
        rows: '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>3</v></c><x:c r="C1"><x:v>1</x:v></x:c></row><x:row r="2"><c r="A2"><v>1</v></c></x:row><row r="3"><c r="A3"><v>3</v></c></row>',
        differences: [differ('A1', '[object Object]', null, WHY.broken), differ('B1', '[object Object]', null, WHY.broken)],
      },
      'white space and line ends around values': {
        rows: '<row r="1">\n  <c r="A1" t="str">\n    <v>a\r\nb\rc</v>\n  </c>\n  <c r="B1">\n    <v>12</v>\n  </c>\n  <c r="C1" t="inlineStr"><is><t>t</t> tail </is></c>\n<c r="D1" t="inlineStr"><is><t>kept&#13;&#10;as&#xD;is</t></is></c></row>\n<row r="2">\t<c r="A2" t="e"><v>#REF!</v>\n</c></row>',
      },
    };
    for (const [name, book] of Object.entries(cases)) {
      it(name, async () => expectSameRows(await writeHandWorkbook('hand.xlsx', book), book.differences));
    }
  });

  describe('where exceljs has no usable answer, the reader follows the format', () => {
    it('numbers a row without r after the row before it (exceljs fails on it)', async () => {
      const path = await writeHandWorkbook('no-row-r.xlsx', { rows: '<row><c r="A1"><v>1</v></c></row><row r="4"><c r="A4"><v>4</v></c></row><row><c r="B5"><v>5</v></c></row><row/>' });
      await expect(exceljsRows(path)).rejects.toThrow('Invalid Address');
      expect(await sluiceRows(path)).toEqual([{ number: 1, cells: [1] }, { number: 4, cells: [4] }, { number: 5, cells: [null, 5] }, { number: 6, cells: [] }]);
    });

    it('places a cell without r in the column after the cell before it (exceljs fails on it)', async () => {
      const path = await writeHandWorkbook('no-cell-r.xlsx', { rows: '<row r="1"><c><v>1</v></c><c t="inlineStr"><is><t>b</t></is></c><c r="D1"><v>4</v></c><c><v>5</v></c></row>' });
      await expect(exceljsRows(path)).rejects.toThrow();
      expect(await sluiceRows(path)).toEqual([{ number: 1, cells: [1, 'b', null, 4, 5] }]);
    });

    it('fails on a cell reference without a column, or past column XFD, as exceljs does', async () => {
      for (const ref of ['12', 'XFE1']) {
        const path = await writeHandWorkbook('bad-ref.xlsx', { rows: `<row r="1"><c r="${ref}"><v>1</v></c></row>` });
        await expect(exceljsRows(path)).rejects.toThrow();
        await expect(sluiceRows(path)).rejects.toThrow(ref);
      }
    });
  });

  describe('where exceljs loses or corrupts a value, the reader gives the value in the file', () => {
    /** The first row both ways: exceljs's as stated, Sluice's as stated. */
    async function expectRow(book: HandWorkbook, exceljs: unknown[], sluice: unknown[]): Promise<void> {
      const path = await writeHandWorkbook('differs.xlsx', book);
      expect((await exceljsRows(path))[0]?.cells).toEqual(exceljs);
      expect((await sluiceRows(path))[0]?.cells).toEqual(sluice);
    }

    it(`a formula's cached 0, "", FALSE or error is its value, typed by t; no <v> is null (${WHY.formula})`, async () => {
      await expectRow(
        { rows: '<row r="1"><c r="A1"><f>0</f><v>0</v></c><c r="B1" t="str"><f>""</f><v></v></c><c r="C1" t="b"><f>FALSE()</f><v>0</v></c><c r="D1"><f>NOW()</f></c><c r="E1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="F1" t="b"><f>TRUE()</f><v>1</v></c></row>' },
        [null, null, null, null, null, 1],
        [0, '', false, null, '#DIV/0!', true],
      );
    });

    it(`decodes str and inlineStr text once (${WHY.decodedOnce})`, async () => {
      await expectRow(
        { rows: '<row r="1"><c r="A1" t="str"><v>&amp;lt;b&amp;gt;</v></c><c r="B1" t="inlineStr"><is><t>&amp;amp; &amp;quot;</t></is></c><c r="C1" t="str"><f>A1</f><v>&amp;lt;</v></c></row>' },
        ['<b>', '& "', '<'],
        ['&lt;b&gt;', '&amp; &quot;', '&lt;'],
      );
    });

    it(`joins every run of rich inline text and leaves phonetic runs out (${WHY.runs})`, async () => {
      await expectRow(
        {
          sharedStrings: '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si><si><r><t>a</t></r><r><t>b</t></r><rPh sb="0" eb="1"><t>エー</t></rPh></si>',
          rows: '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><r><t>one</t></r><r><rPr><b/></rPr><t xml:space="preserve"> two</t></r></is></c><c r="D1" t="inlineStr"><is><t>東京</t><rPh sb="0" eb="2"><t>とうきょう</t></rPh></is></c></row>',
        },
        ['かんじ', 'ab', ' two', 'とうきょう'],
        ['漢字', 'ab', 'one two', '東京'],
      );
    });

    it(`gives null for an empty error and a shared string that cannot be resolved (${WHY.broken})`, async () => {
      await expectRow({ rows: '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="e"><v></v></c><c r="C1"><v>1</v></c></row>' }, ['[object Object]', '[object Object]', 1], [null, null, 1]);
      // With a table, an index past its end is null both ways.
      await expectRow({ sharedStrings: '<si><t>only</t></si>', rows: '<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v>0</v></c></row>' }, [null, 'only'], [null, 'only']);
    });
  });
});
