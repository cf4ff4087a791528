import { describe, expect, it } from 'vitest';
import type { ColumnType } from '../../src/datasets/column-types';
import { MAX_NAME_LENGTH } from '../../src/datasets/columns';
import { headerNames, inferColumns } from '../../src/ingest/infer';
import type { FileFormat } from '../../src/jobs/model';
import { isBlank, MISMATCH, type RawCell, toColumnValue } from '../../src/ingest/values';

type Cell = Exclude<RawCell, null | undefined>;

/** Each [cell, expected stored value] pair of one column type, checked one by one. */
function expectValues(type: ColumnType, cases: Array<[Cell, unknown]>): void {
  for (const [cell, expected] of cases) {
    expect({ cell, value: toColumnValue(type, cell) }).toEqual({ cell, value: expected });
  }
}

function expectMismatch(type: ColumnType, cells: Cell[]): void {
  for (const cell of cells) {
    expect({ cell, value: toColumnValue(type, cell) }).toEqual({ cell, value: MISMATCH });
  }
}

const utc = (...parts: [number, number, number, number?, number?, number?, number?]) => new Date(Date.UTC(...parts));

describe('isBlank', () => {
  it('holds for absent, empty and white-space-only cells', () => {
    for (const cell of [null, undefined, '', ' ', '   ', '\t', '\r\n', '\u00a0', ' \u3000 ']) {
      expect({ cell, blank: isBlank(cell) }).toEqual({ cell, blank: true });
    }
  });

  it('does not hold for values that look empty-ish but are values', () => {
    for (const cell of ['0', 0, false, 'x', ' x ', '""', 'null', new Date(0), Number.NaN]) {
      expect({ cell, blank: isBlank(cell) }).toEqual({ cell, blank: false });
    }
  });
});

describe('toColumnValue', () => {
  describe('STRING', () => {
    it('keeps text as given and writes typed cells as text', () => {
      expectValues('STRING', [
        ['abc', 'abc'],
        ['  padded  ', '  padded  '],
        ['é😀', 'é😀'],
        [42, '42'],
        [1.5, '1.5'],
        [true, 'true'],
        [utc(2024, 1, 29), '2024-02-29T00:00:00.000Z'],
      ]);
    });
  });

  describe('INTEGER', () => {
    it('accepts signs, surrounding white space and leading zeros', () => {
      expectValues('INTEGER', [
        ['42', 42],
        ['+7', 7],
        ['-13', -13],
        [' 8 ', 8],
        ['007', 7],
        ['0', 0],
      ]);
    });

    it('accepts the largest safe integers and rejects anything beyond them', () => {
      expectValues('INTEGER', [
        ['9007199254740991', Number.MAX_SAFE_INTEGER],
        ['-9007199254740991', Number.MIN_SAFE_INTEGER],
        [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      ]);
      // 2^53 and 2^53 + 1 both read back as 2^53: storing either would silently change the value.
      expectMismatch('INTEGER', ['9007199254740992', '9007199254740993', '-9007199254740992', '123456789012345678901234567890', 2 ** 53, -(2 ** 53), 1e21]);
    });

    it('rejects fractions, exponents, separators and other notations', () => {
      expectMismatch('INTEGER', ['1.0', '1.5', '1e3', '1E3', '1,000', '1 000', '0x1F', '0b11', 'abc', '--1', '+-1', '+', '-', '١٢', 'Infinity', 'NaN']);
    });

    it('takes whole numbers from typed cells and rejects other typed cells', () => {
      expectValues('INTEGER', [
        [5, 5],
        [-5, -5],
        [0, 0],
      ]);
      expectMismatch('INTEGER', [5.5, Number.NaN, Number.POSITIVE_INFINITY, true, false, utc(2024, 0, 1)]);
    });
  });

  describe('DECIMAL', () => {
    it('accepts signs, fractions without a leading or trailing digit, and exponents', () => {
      expectValues('DECIMAL', [
        ['3.14', 3.14],
        ['-0.5', -0.5],
        ['+2.5', 2.5],
        ['.5', 0.5],
        ['-.5', -0.5],
        ['5.', 5],
        ['42', 42],
        ['1e3', 1000],
        ['1.5E-3', 0.0015],
        ['-2e+2', -200],
        [' 2.5 ', 2.5],
        ['9007199254740993', 9007199254740992],
      ]);
    });

    it('rejects values outside the range of a double and non-decimal notations', () => {
      expectMismatch('DECIMAL', ['1e400', '-1e400', 'Infinity', '-Infinity', 'NaN', '1.2.3', 'e5', '1e', '1e+', '.', '1,5', '0x10', '1_000', '€5', 'abc']);
    });

    it('takes finite numbers from typed cells and rejects other typed cells', () => {
      expectValues('DECIMAL', [
        [2.5, 2.5],
        [-3, -3],
      ]);
      expectMismatch('DECIMAL', [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, true, utc(2024, 0, 1)]);
    });
  });

  describe('BOOLEAN', () => {
    it('reads true/false, t/f, yes/no, y/n and 1/0 in any case, stored as 1 and 0', () => {
      expectValues('BOOLEAN', [
        ['true', 1],
        ['TRUE', 1],
        ['t', 1],
        [' Yes ', 1],
        ['y', 1],
        ['Y', 1],
        ['1', 1],
        ['false', 0],
        ['False', 0],
        ['f', 0],
        ['no', 0],
        ['NO', 0],
        ['n', 0],
        ['0', 0],
      ]);
    });

    it('rejects anything else', () => {
      expectMismatch('BOOLEAN', ['maybe', 'on', 'off', '2', '-1', '01', '1.0', 'yess', 'tru', 'ja']);
    });

    it('takes spreadsheet booleans and the numbers 1 and 0', () => {
      expectValues('BOOLEAN', [
        [true, 1],
        [false, 0],
        [1, 1],
        [0, 0],
      ]);
      expectMismatch('BOOLEAN', [2, -1, 0.5, utc(2024, 0, 1)]);
    });
  });

  describe('DATE', () => {
    it('accepts calendar dates, leap days included', () => {
      expectValues('DATE', [
        ['2024-01-05', '2024-01-05'],
        [' 2024-01-05 ', '2024-01-05'],
        ['2024-02-29', '2024-02-29'],
        ['2000-02-29', '2000-02-29'],
        ['2024-12-31', '2024-12-31'],
        ['1999-04-30', '1999-04-30'],
      ]);
    });

    it('rejects days that do not exist', () => {
      // 2023 is not a leap year, 1900 is not (divisible by 100), 2100 is not either.
      expectMismatch('DATE', ['2024-02-30', '2023-02-29', '1900-02-29', '2100-02-29', '2024-04-31', '2024-06-31', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32']);
    });

    it('rejects other layouts and date-times', () => {
      expectMismatch('DATE', ['2024-1-5', '2024/01/05', '05/01/2024', '20240105', '2024-01-05T00:00:00Z', '2024-01-05 10:00', 'today']);
    });

    it('takes an XLSX date at midnight UTC, but not one with a time of day', () => {
      expectValues('DATE', [
        [utc(2024, 1, 29), '2024-02-29'],
        [utc(1999, 11, 31), '1999-12-31'],
      ]);
      expectMismatch('DATE', [utc(2024, 1, 29, 12), utc(2024, 1, 29, 0, 0, 0, 1), utc(2024, 1, 28, 23, 59, 59), new Date(Number.NaN), 45351, true]);
    });
  });

  describe('DATETIME', () => {
    it('normalizes to UTC ISO-8601, honouring offsets and taking a missing zone as UTC', () => {
      expectValues('DATETIME', [
        ['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.000Z'],
        ['2024-01-15T10:30:00z', '2024-01-15T10:30:00.000Z'],
        ['2024-01-15T10:30:00+02:00', '2024-01-15T08:30:00.000Z'],
        ['2024-01-15T10:30:00-05:30', '2024-01-15T16:00:00.000Z'],
        ['2024-01-15T10:30:00+0200', '2024-01-15T08:30:00.000Z'],
        ['2024-01-15T10:30', '2024-01-15T10:30:00.000Z'],
        ['2024-01-15 10:30', '2024-01-15T10:30:00.000Z'],
        ['2024-01-15 10:30:45.5', '2024-01-15T10:30:45.500Z'],
        ['2024-01-15T10:30:45.123Z', '2024-01-15T10:30:45.123Z'],
        [' 2024-01-15T10:30:00Z ', '2024-01-15T10:30:00.000Z'],
      ]);
    });

    it('moves across days, months and leap days with the offset', () => {
      expectValues('DATETIME', [
        ['2024-03-01T00:30:00+01:00', '2024-02-29T23:30:00.000Z'],
        ['2024-02-29T23:30:00-01:00', '2024-03-01T00:30:00.000Z'],
        ['2023-12-31T23:00:00-02:00', '2024-01-01T01:00:00.000Z'],
      ]);
    });

    it('rejects impossible dates and times and incomplete values', () => {
      expectMismatch('DATETIME', [
        '2024-02-30T10:00:00Z',
        '2023-02-29T10:00:00Z',
        '2024-01-15T24:00:00Z',
        '2024-01-15T10:60:00Z',
        '2024-01-15T10:30:60Z',
        '2024-01-15T25:00',
        '2024-01-15',
        '2024-01-15T10',
        '2024-01-15T10:30:00+2',
        '2024-01-15T10:30:00 UTC',
        '15/01/2024 10:30',
      ]);
    });

    it('takes XLSX dates as they are, with or without a time of day', () => {
      expectValues('DATETIME', [
        [utc(2024, 1, 29, 13, 45, 10), '2024-02-29T13:45:10.000Z'],
        [utc(2024, 1, 29), '2024-02-29T00:00:00.000Z'],
      ]);
      expectMismatch('DATETIME', [new Date(Number.NaN), 45351.5, true]);
    });
  });

  describe('EMAIL', () => {
    it('accepts addresses with a dotted domain, trimmed', () => {
      expectValues('EMAIL', [
        ['user@example.com', 'user@example.com'],
        [' user@example.com ', 'user@example.com'],
        ["o'brien+tag@mail.example.co.uk", "o'brien+tag@mail.example.co.uk"],
        ['a.b-c_d@sub-domain.example.org', 'a.b-c_d@sub-domain.example.org'],
      ]);
    });

    it('rejects addresses without a dotted domain and malformed ones', () => {
      expectMismatch('EMAIL', [
        'user@localhost',
        'user@@example.com',
        'user example@example.com',
        '@example.com',
        'user@',
        'user@-example.com',
        'user@example-.com',
        'user@example.com.',
        'user@.example.com',
        'userexample.com',
        `${'a'.repeat(245)}@example.com`, // 257 characters: more than 254
      ]);
    });

    it('rejects typed cells', () => {
      expectMismatch('EMAIL', [42, true, utc(2024, 0, 1)]);
    });
  });
});

describe('headerNames', () => {
  it('keeps given names, trimmed', () => {
    expect(headerNames(['id', ' name ', 'E-mail Address'], 3)).toEqual(['id', 'name', 'E-mail Address']);
  });

  it('names blank header cells by position', () => {
    expect(headerNames(['a', '', '   ', null, undefined, 'f'], 6)).toEqual(['a', 'column_2', 'column_3', 'column_4', 'column_5', 'f']);
  });

  it('names every column by position when there is no header, and extends a short header to the width', () => {
    expect(headerNames(null, 3)).toEqual(['column_1', 'column_2', 'column_3']);
    expect(headerNames(['a'], 3)).toEqual(['a', 'column_2', 'column_3']);
    expect(headerNames(['a', 'b', 'c'], 1)).toEqual(['a', 'b', 'c']);
    expect(headerNames(null, 0)).toEqual([]);
  });

  it('suffixes repeated names, ignoring case, without colliding with given names', () => {
    expect(headerNames(['a', 'A', 'a'], 3)).toEqual(['a', 'A_2', 'a_3']);
    expect(headerNames(['a', 'a', 'a_2'], 3)).toEqual(['a', 'a_2', 'a_2_2']);
    expect(headerNames(['column_2', ''], 2)).toEqual(['column_2', 'column_2_2']);
    expect(headerNames(['x', ' x '], 2)).toEqual(['x', 'x_2']);
    const names = headerNames(['id', 'ID', 'Id', 'iD'], 4);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(4);
  });

  it('replaces control characters and names a header of only control characters by position', () => {
    expect(headerNames(['first\tname', 'x\u0000y', 'z\u007f', '\u0001'], 4)).toEqual(['first name', 'x y', 'z', 'column_4']);
  });

  it('writes typed header cells as text', () => {
    expect(headerNames([2024, true, utc(2024, 0, 1)], 3)).toEqual(['2024', 'true', '2024-01-01T00:00:00.000Z']);
  });

  it('bounds long names, counting code points, leaving room for a suffix', () => {
    const long = 'x'.repeat(300);
    const [first, second] = headerNames([long, long], 2);
    expect(first).toBe('x'.repeat(MAX_NAME_LENGTH - 4));
    expect(second).toBe(`${'x'.repeat(MAX_NAME_LENGTH - 4)}_2`);
    expect([...second].length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    const [emoji] = headerNames(['😀'.repeat(300)], 1);
    expect([...emoji]).toHaveLength(MAX_NAME_LENGTH - 4);
    expect(emoji).toBe('😀'.repeat(MAX_NAME_LENGTH - 4));
  });
});

describe('inferColumns', () => {
  const typesOf = (sample: RawCell[][], format: FileFormat = 'CSV') =>
    inferColumns(headerNames(null, Math.max(...sample.map((r) => r.length))), sample, format).map((c) => c.type);

  it('gives each column the narrowest type that every sampled value fits', () => {
    const names = ['int', 'dec', 'bool', 'date', 'ts', 'email', 'text'];
    const sample = [
      ['1', '1', 'yes', '2024-02-29', '2024-01-15T10:30:00Z', 'a@example.com', 'hello'],
      ['-2', '2.5', 'no', '2024-03-01', '2024-01-15 11:00', 'b@example.com', '42'],
      ['+3', '1e3', 'Y', '2023-12-31', '2024-01-15T12:00:00+01:00', 'c@example.com', '2024-01-01'],
    ];
    expect(inferColumns(names, sample, 'CSV')).toEqual([
      { name: 'int', type: 'INTEGER', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'dec', type: 'DECIMAL', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'bool', type: 'BOOLEAN', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'date', type: 'DATE', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'ts', type: 'DATETIME', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'email', type: 'EMAIL', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
      { name: 'text', type: 'STRING', required: true, unique: false, pattern: null, min: null, max: null, values: null, aliases: null, format: null },
    ]);
  });

  it('prefers INTEGER for 1/0 columns, BOOLEAN once a word appears, and STRING when no type fits all values', () => {
    expect(typesOf([['1'], ['0'], ['1']])).toEqual(['INTEGER']);
    expect(typesOf([['1'], ['0'], ['yes']])).toEqual(['BOOLEAN']);
    expect(typesOf([['1'], ['2'], ['yes']])).toEqual(['STRING']);
    expect(typesOf([['2024-01-01'], ['2024-01-01T10:00:00Z']])).toEqual(['STRING']); // a date alone is not a DATETIME
    expect(typesOf([['2024-02-29'], ['2023-02-29']])).toEqual(['STRING']); // not a calendar date
    expect(typesOf([['a@example.com'], ['nobody']])).toEqual(['STRING']);
  });

  it('infers STRING for numbers with leading zeros; a lone zero or a zero before the point is a number', () => {
    expect(typesOf([['0'], ['10'], ['-0']])).toEqual(['INTEGER']);
    expect(typesOf([['0.5'], ['-0.25'], ['0e3']])).toEqual(['DECIMAL']);
    for (const code of ['007', '00501', '-007', '+01', '00.5', ' 0123 ']) expect(typesOf([['12'], [code]])).toEqual(['STRING']);
  });

  it('infers STRING for XLSX text cells that read as numbers; other text cells keep their type', () => {
    expect(typesOf([[1], ['2']], 'XLSX')).toEqual(['STRING']);
    expect(typesOf([['1'], ['0']], 'XLSX')).toEqual(['STRING']); // not BOOLEAN either
    expect(typesOf([[true], ['no']], 'XLSX')).toEqual(['BOOLEAN']);
    expect(typesOf([['2024-01-01'], [utc(2024, 2, 1)]], 'XLSX')).toEqual(['DATE']);
    expect(typesOf([['1'], ['2']], 'CSV')).toEqual(['INTEGER']);
  });

  it('does not infer INTEGER for a column holding an integer beyond the safe range', () => {
    const [type] = typesOf([['1'], ['9007199254740993']]);
    expect(type).not.toBe('INTEGER');
  });

  it('makes a column required only when the sample has no blank in it', () => {
    const columns = inferColumns(
      ['full', 'gap', 'spaces', 'short', 'empty'],
      [
        ['1', '1', '1', '1', ''],
        ['2', '', ' ', '2', null],
        ['3', '3', '3'],
      ],
      'CSV',
    );
    expect(columns.map((c) => [c.name, c.type, c.required])).toEqual([
      ['full', 'INTEGER', true],
      ['gap', 'INTEGER', false],
      ['spaces', 'INTEGER', false],
      ['short', 'INTEGER', false], // a row shorter than the header (XLSX drops empty trailing cells) is a blank
      ['empty', 'STRING', false],
    ]);
  });

  it('infers STRING and not required from an empty sample', () => {
    expect(inferColumns(['a', 'b'], [], 'CSV').map((c) => [c.type, c.required])).toEqual([
      ['STRING', false],
      ['STRING', false],
    ]);
  });

  it('infers from XLSX typed cells: numbers, booleans, dates at midnight and dates with a time', () => {
    const sample: RawCell[][] = [
      [1, 1.5, true, utc(2024, 1, 29), utc(2024, 1, 29), utc(2024, 1, 29, 8, 15), 'a@example.com', 1],
      [2, 2, false, utc(2024, 2, 1), utc(2024, 2, 1, 12, 30), utc(2024, 2, 1, 9), 'b@example.com', 'one'],
    ];
    expect(inferColumns(['int', 'dec', 'bool', 'date', 'mixed', 'ts', 'email', 'text'], sample, 'XLSX').map((c) => c.type)).toEqual([
      'INTEGER',
      'DECIMAL',
      'BOOLEAN',
      'DATE',
      'DATETIME',
      'DATETIME',
      'EMAIL',
      'STRING',
    ]);
  });
});
