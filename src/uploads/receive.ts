import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const HEAD_BYTES = 8;

/** What receiving a file learnt about it: its size, sha256 and first bytes (for format detection). */
export interface Received {
  size: number;
  sha256: string;
  head: Buffer;
}

/** Streams `stream` into a new file at `path`, hashing it on the way; resolves once the bytes are synced. A failed receive leaves no file. */
export async function receiveToFile(stream: Readable, path: string): Promise<Received> {
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(stream, tap, createWriteStream(path, { flags: 'wx' }));
    const handle = await open(path, 'r+');
    await handle.sync().finally(() => handle.close());
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { size, sha256: hash.digest('hex'), head };
}

/** Whether a file is still the upload that was accepted: same size and sha256 (a corrupt or truncated copy is not). */
export async function isIntact(path: string, size: number, sha256: string): Promise<boolean> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
  }
  return read === size && hash.digest('hex') === sha256;
}
