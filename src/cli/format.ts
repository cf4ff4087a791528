import type { JobStateFragment } from './generated';

/** Prints rows under a header, columns padded to their widest cell. */
export function printTable(header: string[], rows: string[][]): void {
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

/** Prints `label value` pairs with the values aligned. */
export function printFields(fields: Array<[string, string]>): void {
  const width = Math.max(...fields.map(([label]) => label.length));
  for (const [label, value] of fields) console.log(`${label.padEnd(width)}  ${value}`);
}

/** An ISO time to the second, or "-". */
export function time(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d+Z$/, 'Z');
}

/** Seconds as "2.5s", "45s", "3m05s", "2h07m". */
export function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

export function percent(value: number): string {
  return `${value.toFixed(1)}%`;
}

/** Bytes as "812 B", "4.2 MB" (powers of 1000, as file managers show sizes). */
export function bytes(value: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) [value, unit] = [value / 1000, unit + 1];
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A cell value as a quoted string, cut to `max` characters: it may be long or hold line breaks. */
export function quoted(value: string | null, max = 60): string {
  if (value === null) return '-';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 2)}…"` : text;
}

/** The pieces of a progress line, shared by the bar and the plain lines. */
export function progressParts(job: JobStateFragment): Record<'percent' | 'rows' | 'rejected' | 'speed' | 'etaText' | 'status' | 'stage', string> {
  const { progress } = job;
  return {
    percent: percent(progress.percent),
    rows: String(progress.processedRows),
    rejected: String(progress.rowsRejected),
    speed: progress.rowsPerSecond === null ? '-' : String(Math.round(progress.rowsPerSecond)),
    etaText: progress.etaSeconds === null ? '-' : duration(progress.etaSeconds),
    status: job.status,
    stage: job.stage,
  };
}

/** "1 error", "3 errors". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** UPSERT's split of the rows written, when there is one. */
export function keyMatches({ rowsInserted, rowsUpdated, rowsUnchanged }: { rowsInserted: number; rowsUpdated: number; rowsUnchanged: number }): string {
  return rowsUpdated + rowsUnchanged === 0 ? '' : `${count(rowsInserted, 'row')} inserted, ${rowsUpdated} updated, ${rowsUnchanged} unchanged, `;
}
