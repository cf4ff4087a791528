import type { CsvOptions, FileFormat } from '../jobs/model';
import type { FileLimits, RowSource } from './source';

/** What is needed to read a spooled upload's records. */
export interface SourceSpec {
  path: string;
  format: FileFormat;
  csv: CsvOptions;
  /** The worksheet of an XLSX file; null for the first one. */
  sheet: string | null;
  limits: FileLimits;
  /** Lines (CSV) or sheet rows (XLSX) before the header that are not records. */
  skipRows: number;
}

/** Loads only the reader the file needs: a thread's first job then loads no code its format does not use. */
export async function openSource(spec: SourceSpec): Promise<RowSource> {
  if (spec.format === 'CSV') return (await import('./csv-source')).csvSource(spec.path, spec.csv, spec.skipRows, spec.limits);
  return (await import('./xlsx-source')).xlsxSource(spec.path, spec.sheet, spec.skipRows, spec.limits);
}
