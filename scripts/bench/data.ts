// Deterministic bench files, generated once into bench/data (ignored by git) and reused.
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import ExcelJS from 'exceljs';

/** mulberry32: a small seeded generator, so every run reads the same bytes. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Björn', 'Chloé', 'Dmitri', 'Esther', 'Farid', 'Grace', 'Hiro', 'Inès', 'José', 'Kwame', 'Lena', 'Mei', 'Noor', 'Olaf', 'Priya'];
const LAST = ['Lovelace', 'Nguyen', 'Okafor', 'Müller', 'García', 'Smith', 'Kowalski', 'Tanaka', 'Haddad', 'Silva', 'Johansson', "O'Brien"];
const WORDS = ['invoice', 'paid', 'late', 'refund', 'partial', 'customer', 'asked', 'for', 'a', 'copy', 'of', 'the', 'contract', 'renewal', 'pending', 'review'];

export const HEADER = ['id', 'uuid', 'name', 'email', 'amount', 'day', 'active', 'notes'];

/** One export-like record: integer id, uuid, name, email, decimal amount, ISO date, boolean, free text. */
function recordMaker(seed: number): (id: number) => [number, string, string, string, string, string, boolean, string] {
  const next = seeded(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
  const hex = (n: number) => {
    let text = '';
    for (let i = 0; i < n; i++) text += Math.floor(next() * 16).toString(16);
    return text;
  };
  return (id) => {
    const first = pick(FIRST);
    const last = pick(LAST);
    const words = Array.from({ length: 6 + Math.floor(next() * 6) }, () => pick(WORDS));
    // About a third of the notes hold a comma and a quoted phrase, as free text in real exports does.
    if (next() < 0.3) words.splice(2, 0, `"${pick(WORDS)}",`);
    const day = `20${10 + Math.floor(next() * 15)}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
    return [
      id,
      `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      `${first} ${last}`,
      // Addresses are ASCII, as mail systems still mostly require.
      `${first}.${last}${id}@example.com`.normalize('NFD').replace(/[^\w.@]/g, '').toLowerCase(),
      (next() * 10000).toFixed(2),
      day,
      next() < 0.5,
      words.join(' '),
    ];
  };
}

function csvField(value: string | number | boolean): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes to a temporary name and renames at the end, so an interrupted run never leaves half a file behind. */
async function generateOnce(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.partial`;
  await write(tmp);
  renameSync(tmp, path);
}

/** An 8-column CSV of `rows` records with a header (about 160 bytes a record). */
export function generateCsv(path: string, rows: number): Promise<void> {
  return generateOnce(path, async (tmp) => {
    const make = recordMaker(42);
    const out = createWriteStream(tmp);
    out.write(`${HEADER.join(',')}\n`);
    for (let id = 1; id <= rows; id++) {
      if (!out.write(`${make(id).map(csvField).join(',')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    out.end();
    await finished(out);
  });
}

/**
 * The records of `generateCsv(path, rows)` again for UPSERT, keyed by id: odd ids with other values
 * (another seed's record), even ids exactly as they were.
 */
export function generateUpsertCsv(path: string, rows: number): Promise<void> {
  return generateOnce(path, async (tmp) => {
    const [same, other] = [recordMaker(42), recordMaker(7)];
    const out = createWriteStream(tmp);
    out.write(`${HEADER.join(',')}\n`);
    for (let id = 1; id <= rows; id++) {
      const [kept, changed] = [same(id), other(id)];
      const record = id % 2 === 1 ? changed : kept;
      if (!out.write(`${record.map(csvField).join(',')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    out.end();
    await finished(out);
  });
}

/** The same records as an XLSX sheet whose strings live in a shared-strings table, as Excel writes them. */
export function generateXlsx(path: string, rows: number): Promise<void> {
  return generateOnce(path, async (tmp) => {
    const make = recordMaker(42);
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: tmp, useSharedStrings: true, useStyles: false });
    const sheet = workbook.addWorksheet('data');
    sheet.addRow(HEADER).commit();
    for (let id = 1; id <= rows; id++) {
      const [num, uuid, name, email, amount, day, active, notes] = make(id);
      sheet.addRow([num, uuid, name, email, Number(amount), day, active, notes]).commit();
    }
    sheet.commit();
    await workbook.commit();
  });
}
