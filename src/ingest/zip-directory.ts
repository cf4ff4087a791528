import { type Readable, Transform } from 'node:stream';
import yauzl from 'yauzl';
import { IngestError } from './ingest-error';

/** What an XLSX file's zip directory may declare; beyond it the file is rejected before anything is inflated. */
export interface ZipLimits {
  readonly maxEntries: number;
  readonly maxEntryBytes: number;
  readonly maxTotalBytes: number;
  /** Uncompressed to compressed size, for entries of at least RATIO_MIN_BYTES: real sheet XML compresses 10-100x, a deflate bomb about 1000x. */
  readonly maxRatio: number;
}

/** Entries smaller than this are not held to the ratio: a tiny, very repetitive part (an empty sheet's XML) compresses far more than data does. */
const RATIO_MIN_BYTES = 1024 ** 2;

/** The file is not a zip archive at all (or not one yauzl can read). */
export class NotAWorkbookError extends Error {}

/** One entry as the central directory declares it. */
export interface ZipEntry {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  raw: yauzl.Entry;
}

function rejected(message: string): IngestError {
  return new IngestError('FILE_REJECTED', `the XLSX file was rejected before reading it: ${message}`);
}

/** Why an entry name is unsafe (a path that would leave the archive, or a Windows path), or null. */
function unsafeName(name: string): string | null {
  if (name.includes('\\')) return 'a backslash';
  if (name.startsWith('/') || /^[a-z]:/i.test(name)) return 'an absolute path';
  if (name.split('/').includes('..')) return 'a ".." segment';
  return null;
}

/** Decodes a raw entry name (CP437 unless the UTF-8 flag is set); the checks look at ASCII only, where both agree. */
function entryName(entry: yauzl.Entry): string {
  return (entry.fileNameRaw as Buffer).toString(entry.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');
}

/**
 * A zip archive read through its central directory only (random access): the directory is checked
 * against the limits first, and only entries listed in it can be opened. Each entry inflates to at
 * most its declared size (yauzl's validateEntrySizes stops the stream past it), so the checked
 * figures bound all the work. Entries outside the directory (local headers a sequential reader would
 * parse) are never read.
 */
export class ZipDirectory {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    readonly fileSize: number,
  ) {}

  static open(path: string, limits: ZipLimits): Promise<ZipDirectory> {
    return new Promise((resolve, reject) => {
      yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (openError, zip) => {
        if (openError || !zip) return reject(new NotAWorkbookError(`not a readable zip archive: ${openError?.message}`));
        const fail = (error: Error) => {
          zip.close();
          reject(error);
        };
        // The end record says how many entries there are: too many is refused before any is read.
        if (zip.entryCount > limits.maxEntries) return fail(rejected(`it has ${zip.entryCount} zip entries; at most ${limits.maxEntries} are allowed`));
        const entries = new Map<string, ZipEntry>();
        let total = 0;
        zip.on('error', (error: Error) => fail(new NotAWorkbookError(error.message)));
        zip.on('end', () => resolve(new ZipDirectory(zip, entries, zip.fileSize)));
        zip.on('entry', (raw: yauzl.Entry) => {
          const name = entryName(raw);
          const unsafe = unsafeName(name);
          if (unsafe) return fail(rejected(`the entry name "${name.slice(0, 200)}" holds ${unsafe}`));
          const { compressedSize, uncompressedSize } = raw;
          if (uncompressedSize > limits.maxEntryBytes) return fail(rejected(`the entry "${name}" would inflate to ${uncompressedSize} bytes; at most ${limits.maxEntryBytes} are allowed`));
          total += uncompressedSize;
          if (total > limits.maxTotalBytes) return fail(rejected(`its entries would inflate to more than ${limits.maxTotalBytes} bytes in all`));
          if (uncompressedSize >= RATIO_MIN_BYTES && uncompressedSize > limits.maxRatio * compressedSize) {
            return fail(rejected(`the entry "${name}" would inflate ${Math.round(uncompressedSize / Math.max(compressedSize, 1))} times its size; at most ${limits.maxRatio} times is allowed`));
          }
          entries.set(name, { name, compressedSize, uncompressedSize, raw });
          zip.readEntry();
        });
        zip.readEntry();
      });
    });
  }

  /**
   * The entry's inflated bytes, each chunk counted by `inflated` on its way. The stream fails with
   * FILE_REJECTED once past the declared size; destroying it stops the inflation.
   */
  openEntry(entry: ZipEntry, inflated: (bytes: number) => void = () => {}): Promise<Readable> {
    return new Promise((resolve, reject) => {
      this.zip.openReadStream(entry.raw, (error, stream) => {
        if (error || !stream) return reject(error ?? new Error(`${entry.name} cannot be read`));
        const counted = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            inflated(chunk.length);
            done(null, chunk);
          },
        });
        // yauzl's validateEntrySizes stops the inflation past the declared size; its error says so in these words (yauzl 3).
        stream.on('error', (streamError) =>
          counted.destroy(/^too many bytes/.test(streamError.message) ? rejected(`the entry "${entry.name}" inflates past the ${entry.uncompressedSize} bytes its directory declared`) : streamError),
        );
        counted.on('close', () => stream.destroy());
        resolve(stream.pipe(counted));
      });
    });
  }

  close(): void {
    this.zip.close();
  }
}
