import { describe, expect, it } from 'vitest';
import { compileDateLayout } from '../../src/ingest/date-layout';
import { MISMATCH, toColumnValue } from '../../src/ingest/values';

const date = (layout: string, text: string | number) => toColumnValue('DATE', text, compileDateLayout(layout, 'DATE'));
const dateTime = (layout: string, text: string | number) => toColumnValue('DATETIME', text, compileDateLayout(layout, 'DATETIME'));

describe('date layouts', () => {
  it('reads day-first, month-first and compact dates into ISO dates', () => {
    expect(date('DD/MM/YYYY', '31/01/2024')).toBe('2024-01-31');
    expect(date('MM/DD/YYYY', '01/31/2024')).toBe('2024-01-31');
    expect(date('DD.MM.YYYY', ' 29.02.2024 ')).toBe('2024-02-29');
    expect(date('YYYYMMDD', '20240131')).toBe('2024-01-31');
    // An XLSX cell that holds 20240131 as a number reads as its digits.
    expect(date('YYYYMMDD', 20240131)).toBe('2024-01-31');
  });

  it('refuses texts that do not follow the layout or are no calendar date', () => {
    for (const text of ['2024-01-31', '31/1/2024', '31/01/24', '31-01-2024', '31/01/2024 10:00', '30/02/2024', '29/02/2023', '00/01/2024', '01/13/2024']) {
      expect(date('DD/MM/YYYY', text), text).toBe(MISMATCH);
    }
  });

  it('reads date-times as UTC instants, with or without seconds', () => {
    expect(dateTime('MM/DD/YYYY HH:mm', '01/31/2024 23:05')).toBe('2024-01-31T23:05:00.000Z');
    expect(dateTime('DD/MM/YYYY HH:mm:ss', '31/01/2024 07:08:09')).toBe('2024-01-31T07:08:09.000Z');
    expect(dateTime('YYYY-MM-DDTHH:mm', '2024-01-31T07:08')).toBe('2024-01-31T07:08:00.000Z');
    for (const text of ['01/31/2024 24:00', '01/31/2024 10:60', '01/31/2024', '01/31/2024 10:00:00']) {
      expect(dateTime('MM/DD/YYYY HH:mm', text), text).toBe(MISMATCH);
    }
  });

  it('leaves spreadsheet dates (Date cells) as they are read without a layout', () => {
    const cell = new Date(Date.UTC(2024, 0, 31));
    expect(toColumnValue('DATE', cell, compileDateLayout('DD/MM/YYYY', 'DATE'))).toBe('2024-01-31');
  });

  it('says what is wrong with a layout', () => {
    const problem = (layout: string, type: 'DATE' | 'DATETIME' | 'STRING' = 'DATE') => {
      try {
        compileDateLayout(layout, type);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problem('DD/MM/YYYY')).toBeNull();
    expect(problem('DD/MM')).toMatch(/lacks YYYY/);
    expect(problem('DD/MM/YY')).toMatch(/"Y", which is not a token/);
    expect(problem('DD MMM YYYY')).toMatch(/"M", which is not a token/);
    expect(problem('DD/MM/YYYY/DD')).toMatch(/DD twice/);
    expect(problem('DD/MM/YYYY HH:mm')).toMatch(/time of day/);
    expect(problem('DD/MM/YYYY HH', 'DATETIME')).toMatch(/lacks mm/);
    expect(problem('DD/MM/YYYY', 'STRING')).toMatch(/DATE and DATETIME columns, not STRING/);
    expect(problem('')).toMatch(/1 to 64 characters/);
    // Separators are literal, regular-expression characters included.
    expect(date('YYYY.MM.DD', '2024x01x31')).toBe(MISMATCH);
    expect(date('(YYYY)[MM]{DD}', '(2024)[01]{31}')).toBe('2024-01-31');
  });
});
