import { type ColumnSpec, specsOf } from '../datasets/columns';
import type { Dataset } from '../datasets/model';
import type { FileFormat } from '../jobs/model';
import { headerNames, inferColumns } from './infer';
import type { SourceBurst, SourceItem, SourcePosition } from './source';
import { approxBytes, type RawCell, readsAsEmpty } from './values';

/** The sample kept for inference stops at this much text, however many rows it holds: records may be up to maxRecordBytes each. */
const SAMPLE_MAX_BYTES = 16 * 1024 ** 2;

/** What was read before the columns were settled: the header, rows kept for inference, and the position after them. */
export interface Prelude {
  header: RawCell[] | null;
  buffered: SourceItem[];
  after: SourcePosition | null;
}

/** Reads the header (when the file has one) and, when columns must be inferred, a sample of rows. */
export async function readPrelude(iterator: AsyncIterator<SourceBurst>, hasHeader: boolean, sampleRows: number): Promise<Prelude> {
  const buffered: SourceItem[] = [];
  let after: SourcePosition | null = null;
  let rows = 0;
  let bytes = 0;
  const readBurst = async (): Promise<boolean> => {
    const result = await iterator.next();
    if (result.done) return false;
    for (const item of result.value.items) {
      buffered.push(item);
      if (item.kind === 'row') {
        rows++;
        bytes += approxBytes(item.cells);
      }
    }
    after = result.value.after;
    return true;
  };
  while (buffered.length === 0 && (await readBurst()));
  const first = buffered[0];
  const header = hasHeader && first?.kind === 'row' && first.row === 0 ? (buffered.shift() as { cells: RawCell[] }).cells : null;
  while (rows < sampleRows && bytes < SAMPLE_MAX_BYTES && (await readBurst()));
  return { header, buffered, after };
}

/** The columns a job writes: the caller's, else the dataset's, else none yet (they are inferred from the prelude). */
export function givenColumns(given: ColumnSpec[] | null, dataset: Dataset): ColumnSpec[] | null {
  return given ?? (dataset.columns ? specsOf(dataset.columns) : null);
}

/** Columns inferred from the header and a sample of the prelude's rows, with the message that reports them. */
export function inferFromPrelude(
  { header, buffered }: Prelude,
  sampleRows: number,
  format: FileFormat,
  nullValues: ReadonlySet<string> | null,
): { columns: ColumnSpec[]; messages: Record<string, string> } {
  const asRead = (cell: RawCell) => (readsAsEmpty(cell, nullValues) ? null : cell);
  const sample = buffered.flatMap((item) => (item.kind === 'row' ? [nullValues ? item.cells.map(asRead) : item.cells] : [])).slice(0, sampleRows);
  // The header says how many columns there are; without one, the widest sampled row does (the source bounds both).
  const width = header ? header.length : sample.reduce((widest, cells) => Math.max(widest, cells.length), 0);
  const columns = inferColumns(headerNames(header, width), sample, format);
  return { columns, messages: { columns: columns.map((c) => `${c.name}: ${c.type}${c.required ? ' (required)' : ''}`).join(', ') } };
}
