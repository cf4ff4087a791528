import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';

const HEAD_BYTES = 8;

/** An uploaded file, fully written and synced to the spool, not yet owned by a job. */
export class SpooledUpload {
  constructor(
    readonly path: string,
    readonly name: string,
    readonly size: number,
    readonly sha256: string,
    /** The first bytes, for format detection. */
    readonly head: Buffer,
  ) {}
}

/** Whether a spooled file is still the upload that was accepted: same size and sha256 (a corrupt or truncated spool is not). */
export async function isIntact(path: string, size: number, sha256: string): Promise<boolean> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
  }
  return read === size && hash.digest('hex') === sha256;
}

/** The folder where uploads wait for their jobs: tmp/ while they arrive, then one file per job. */
export class Spool {
  private readonly tmpDir: string;

  constructor(private readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
  }

  /**
   * Creates the folders and deletes what a previous process left behind: half-received uploads, and
   * spooled files of jobs that ended or were never committed (all but `keep`).
   */
  async init(keep: ReadonlySet<string>): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      if (path !== this.tmpDir && !keep.has(path)) await rm(path, { recursive: true, force: true });
    }
  }

  /** Streams an upload to disk, hashing it on the way; resolves once the bytes are synced. */
  async receive(stream: Readable, name: string): Promise<SpooledUpload> {
    const path = join(this.tmpDir, randomUUID());
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
      await pipeline(stream, tap, createWriteStream(path));
      const handle = await open(path, 'r+');
      await handle.sync().finally(() => handle.close());
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return new SpooledUpload(path, name, size, hash.digest('hex'), head);
  }

  /** Hands the upload to a job: the file moves out of tmp/, so request cleanup no longer touches it. */
  async adopt(upload: SpooledUpload, jobId: string): Promise<string> {
    const path = join(this.dir, jobId);
    await rename(upload.path, path);
    return path;
  }

  async discard(upload: SpooledUpload): Promise<void> {
    await rm(upload.path, { force: true });
  }
}
