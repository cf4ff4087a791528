import { crc32, deflateRawSync } from 'node:zlib';

/** One entry of a hand-built zip archive. */
export interface ZipEntryInput {
  name: string;
  data: string | Buffer;
  /** Deflate the data (default: stored as is). */
  deflate?: boolean;
  /** The uncompressed size the headers declare, when it should lie; the real one by default. */
  declaredSize?: number;
  /** Whether the central directory lists the entry (default true): one it omits exists only as a local header. */
  listed?: boolean;
}

/**
 * A zip archive built by hand, valid as a zip whatever the entries are: names, sizes and the
 * directory are written exactly as given, so that a test can build archives no zip library would.
 * Over 65,535 entries it writes the zip64 end records.
 */
export function zipArchive(entries: readonly ZipEntryInput[]): Buffer {
  const parts: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  let listed = 0;
  for (const entry of entries) {
    const fileName = Buffer.from(entry.name, 'utf8');
    const raw = Buffer.from(entry.data);
    const data = entry.deflate ? deflateRawSync(raw) : raw;
    const method = entry.deflate ? 8 : 0;
    const crc = crc32(raw);
    const size = entry.declaredSize ?? raw.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(fileName.length, 26);
    local.writeUInt16LE(0, 28);
    if (entry.listed ?? true) {
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(20, 4); // version made by
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(0x0800, 8);
      central.writeUInt16LE(method, 10);
      central.writeUInt32LE(0, 12);
      central.writeUInt32LE(crc, 16);
      central.writeUInt32LE(data.length, 20);
      central.writeUInt32LE(size, 24);
      central.writeUInt16LE(fileName.length, 28);
      central.writeUInt32LE(offset, 42);
      centrals.push(central, fileName);
      listed++;
    }
    parts.push(local, fileName, data);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const zip64 = listed > 0xffff;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : listed, 8);
  end.writeUInt16LE(zip64 ? 0xffff : listed, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  if (!zip64) return Buffer.concat([...parts, directory, end]);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4); // size of the rest of the record
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(listed), 24);
  record.writeBigUInt64LE(BigInt(listed), 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + directory.length), 8);
  locator.writeUInt32LE(1, 16); // total disks
  return Buffer.concat([...parts, directory, record, locator, end]);
}

/** A zip archive with stored (uncompressed) entries, built by hand: valid as a zip, whatever the entries are. */
export function storedZip(entries: Record<string, string>): Buffer {
  return zipArchive(Object.entries(entries).map(([name, data]) => ({ name, data })));
}
