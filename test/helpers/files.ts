import ExcelJS from 'exceljs';
import type { ColumnInput } from '../generated/graphql';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll } from 'vitest';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-files-'));
}

export async function writeText(name: string, content: string | Buffer): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, content);
  return path;
}

/** Writes a CSV of `rows` generated rows line by line, without holding the file in memory. */
/** A CSV text of these lines, each ended by a newline. */
export const csvText = (...lines: string[]) => `${lines.join('\n')}\n`;

export async function writeGeneratedCsv(path: string, header: string, rows: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  for (let i = 1; i <= rows; i++) {
    if (!out.write(`${line(i)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
}

/** The people file used across tests: id, name, email, amount, joined, active. Row i is valid. */
export function personLine(i: number): string {
  return `${i},"Person ${i}, Jr.",person${i}@example.com,${(i * 1.25).toFixed(2)},2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')},${i % 2 === 0 ? 'true' : 'false'}`;
}

export const PERSON_HEADER = 'id,name,email,amount,joined,active';

export const PERSON_COLUMNS: ColumnInput[] = [
  { name: 'id', type: 'INTEGER', required: true, unique: true },
  { name: 'name', type: 'STRING', required: true },
  { name: 'email', type: 'EMAIL', required: true },
  { name: 'amount', type: 'DECIMAL' },
  { name: 'joined', type: 'DATE' },
  { name: 'active', type: 'BOOLEAN' },
];

export function expectedPerson(i: number): Record<string, unknown> {
  return {
    id: i,
    name: `Person ${i}, Jr.`,
    email: `person${i}@example.com`,
    amount: Number((i * 1.25).toFixed(2)),
    joined: `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
    active: i % 2 === 0,
  };
}

/**
 * A people file of `rows` valid rows, written before the enclosing suite's tests and removed after
 * them. The returned function gives its path (once the suite runs).
 */
export function peopleFileForSuite(rows: number): () => string {
  return csvFileForSuite(PERSON_HEADER, rows, personLine);
}

/** A CSV of `rows` generated rows, written before the enclosing suite's tests and removed after them. */
export function csvFileForSuite(header: string, rows: number, line: (i: number) => string): () => string {
  let path: string | undefined;
  beforeAll(async () => {
    path = join(await tempDir(), 'generated.csv');
    await writeGeneratedCsv(path, header, rows, line);
  });
  afterAll(async () => {
    if (path) await rm(dirname(path), { recursive: true, force: true });
  });
  return () => path!;
}

/** Writes a small workbook with the in-memory Workbook: one worksheet per entry, rows as given (first row = header). */
export async function writeWorkbook(name: string, sheets: Record<string, unknown[][]>): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const [sheetName, rows] of Object.entries(sheets)) {
    const worksheet = workbook.addWorksheet(sheetName);
    rows.forEach((values, i) => {
      // Sparse rows: only set the cells that hold something, so that a row of nulls stays absent.
      values.forEach((value, j) => {
        if (value !== null && value !== undefined) worksheet.getCell(i + 1, j + 1).value = value as ExcelJS.CellValue;
      });
    });
  }
  const path = join(await tempDir(), name);
  await workbook.xlsx.writeFile(path);
  return path;
}
