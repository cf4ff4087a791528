import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ZipDirectory, ZipEntry } from './zip-directory';

interface Relationship {
  Id: string;
  Type: string;
  Target: string;
}

/** The parts of exceljs's WorkbookReader (4.4.0, pinned) this reader feeds: each parses one part from a stream. */
interface ReaderInternals {
  workbookRels?: Relationship[];
  model?: { sheets?: Array<{ id: number; name: string; rId: string }> };
  _parseRels(stream: Readable): Promise<void>;
  _parseWorkbook(stream: Readable): Promise<void>;
  _parseStyles(stream: Readable): Promise<void>;
  _parseSharedStrings(stream: Readable): AsyncGenerator<{ eventType: string; value: unknown }>;
  _parseWorksheet(iterator: AsyncIterable<Buffer>, sheetNo: string): Generator<{ eventType: string; value: ExcelJS.stream.xlsx.WorksheetReader & { name: string } }>;
}

const RELS = 'xl/_rels/workbook.xml.rels';
const WORKBOOK = 'xl/workbook.xml';

/** The zip entry a workbook relationship points at (targets are relative to xl/, or absolute from the archive's root). */
function partName(target: string): string {
  return target.startsWith('/') ? target.slice(1) : posix.normalize(posix.join('xl', target));
}

/**
 * exceljs's streaming WorkbookReader, fed through the zip's central directory instead of its local
 * headers: the parts it needs are opened in the order it needs them (relationships, workbook, styles,
 * shared strings, then the one worksheet asked for), so no other entry is inflated and no worksheet is
 * spooled to a temporary file while waiting for the shared strings. Yields that worksheet's reader.
 */
export class ZipWorkbookReader extends ExcelJS.stream.xlsx.WorkbookReader {
  private progress = 0;
  private readonly opened: Readable[] = [];

  constructor(
    private readonly zip: ZipDirectory,
    /** The worksheet's name; null for the first one. */
    private readonly sheet: string | null,
    options: Partial<ExcelJS.stream.xlsx.WorkbookStreamReaderOptions>,
  ) {
    super('', options);
  }

  /**
   * How far into the worksheet reading has got, in bytes of the file: the share of the sheet's XML
   * inflated so far times the file's size, so that bytesRead / file size is the share of the sheet
   * read. The other parts count nothing: they are read first but may sit anywhere in the file (a
   * streaming writer puts them after the sheet), and they are not the rows. Never goes back.
   */
  get bytesRead(): number {
    return this.progress;
  }

  override async *parse(): AsyncGenerator<{ eventType: string; value: unknown }> {
    const self = this as unknown as ReaderInternals;
    const rels = this.zip.entries.get(RELS);
    const workbook = this.zip.entries.get(WORKBOOK);
    if (!rels || !workbook) throw new Error(`the archive has no ${rels ? WORKBOOK : RELS}`);
    await self._parseRels(await this.open(rels));
    await self._parseWorkbook(await this.open(workbook));
    const related = (type: string) => {
      const rel = self.workbookRels?.find((r) => r.Type.endsWith(`/${type}`));
      return rel ? this.zip.entries.get(partName(rel.Target)) : undefined;
    };
    const styles = related('styles');
    if (styles) await self._parseStyles(await this.open(styles));
    const sharedStrings = related('sharedStrings');
    if (sharedStrings) yield* self._parseSharedStrings(await this.open(sharedStrings));

    const sheets = self.model?.sheets ?? [];
    const sheet = this.sheet === null ? sheets[0] : sheets.find((s) => s.name === this.sheet);
    const target = sheet && self.workbookRels?.find((r) => r.Id === sheet.rId)?.Target;
    const entry = target === undefined ? undefined : this.zip.entries.get(partName(target));
    if (!sheet || !entry) return;
    for (const event of self._parseWorksheet(await this.openSheet(entry), String(sheet.id))) {
      event.value.name = sheet.name;
      yield event;
    }
    this.progress = this.zip.fileSize;
  }

  /** The entry's inflated bytes for exceljs, each chunk counted by `inflated` on its way. */
  private async open(entry: ZipEntry, inflated?: (bytes: number) => void): Promise<Readable> {
    const stream = await this.zip.openEntry(entry, inflated);
    this.opened.push(stream);
    return stream;
  }

  /** The worksheet's inflated bytes, advancing the progress as they pass. */
  private openSheet(entry: ZipEntry): Promise<Readable> {
    let inflated = 0;
    return this.open(entry, (bytes) => {
      inflated += bytes;
      const share = Math.min(1, inflated / Math.max(entry.uncompressedSize, 1));
      this.progress = Math.max(this.progress, Math.floor(share * this.zip.fileSize));
    });
  }

  /** Stops whatever is still inflating and releases the file. */
  close(): void {
    for (const stream of this.opened) stream.destroy();
    this.zip.close();
  }
}
