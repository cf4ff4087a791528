import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/ports/blob-store';
import { ENGINES } from './engines';
import { freshEngine } from './support-ports';

const MB = 1024 * 1024;

/** A stream of `chunks` (fresh buffers), read as it is consumed. */
function streamOf(...chunks: Array<string | Buffer>): Readable {
  return Readable.from(
    chunks.map((chunk) => Buffer.from(chunk)),
    { objectMode: false },
  );
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function sha256OfFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readBlob(blobs: BlobStore, key: string): Promise<Buffer> {
  const file = await blobs.localFile(key);
  try {
    return await readFile(file.path);
  } finally {
    await file.release();
  }
}

/** A full garbage collection, so that live memory can be measured; undefined where V8 does not allow one. */
function garbageCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

describe.each(ENGINES)('BlobStore contract: $name', (spec) => {
  const opened = freshEngine(spec);
  const blobs = () => opened().engine.blobs;

  it('stage streams an upload in and reports its name, size, sha256 and first bytes', async () => {
    const content = Buffer.from('PK\u0003\u0004 then the rest of a file, streamed in three chunks');
    const upload = await blobs().stage(streamOf(content.subarray(0, 3), content.subarray(3, 20), content.subarray(20)), 'book.xlsx');
    expect(upload).toMatchObject({ name: 'book.xlsx', size: content.length, sha256: sha256(content) });
    expect(upload.head.length).toBeGreaterThanOrEqual(4); // enough to tell a ZIP signature
    expect(upload.head.equals(content.subarray(0, upload.head.length))).toBe(true);
    expect(await readFile(upload.path)).toEqual(content);
  });

  it('stages an empty upload and a tiny one', async () => {
    const empty = await blobs().stage(streamOf(), 'empty.csv');
    expect(empty).toMatchObject({ size: 0, sha256: sha256(Buffer.alloc(0)) });
    expect(empty.head.length).toBe(0);
    const tiny = await blobs().stage(streamOf('a'), 'tiny.csv');
    expect(tiny).toMatchObject({ size: 1, sha256: sha256(Buffer.from('a')) });
    expect(tiny.head).toEqual(Buffer.from('a'));
    expect(tiny.path).not.toBe(empty.path);
  });

  it('a stream that fails makes stage fail with its error and leaves nothing staged or stored', async () => {
    const before = await blobs().stage(streamOf('id\n1\n'), 'ok.csv');
    const staging = dirname(before.path);
    const entries = await readdir(staging);
    const broken = new Error('the client went away');
    async function* failing() {
      yield Buffer.alloc(256 * 1024, 1);
      yield Buffer.alloc(256 * 1024, 2);
      throw broken;
    }
    await expect(blobs().stage(Readable.from(failing(), { objectMode: false }), 'broken.csv')).rejects.toBe(broken);
    // Staged uploads are not listed by the port; where they share a folder, no new entry may be left in it.
    expect((await readdir(staging)).sort()).toEqual(entries.sort());
    expect(await blobs().list()).toEqual([]);
    expect(await readFile(before.path)).toEqual(Buffer.from('id\n1\n'));
  });

  it('put stores a staged upload under its key: localFile reads the same bytes, and the staged copy is gone', async () => {
    const content = Buffer.from('code,n\nA,1\nB,2\n');
    const upload = await blobs().stage(streamOf(content), 'people.csv');
    await blobs().put(upload, 'job_0001');
    expect(await exists(upload.path)).toBe(false);
    expect(await readBlob(blobs(), 'job_0001')).toEqual(content);
    expect(await readBlob((await opened().another()).blobs, 'job_0001')).toEqual(content);
    expect(await blobs().list()).toEqual(['job_0001']);
  });

  it('list with a time shows only the keys stored before it (an upload whose job may still be committing is no orphan yet)', async () => {
    const pause = () => new Promise((resolve) => setTimeout(resolve, 300));
    await blobs().put(await blobs().stage(streamOf('old'), 'old.csv'), 'job_old');
    await pause();
    const between = opened().engine.coordination.clock();
    await pause();
    await blobs().put(await blobs().stage(streamOf('new'), 'new.csv'), 'job_new');
    expect(await blobs().list(between)).toEqual(['job_old']);
    expect((await blobs().list()).sort()).toEqual(['job_new', 'job_old']);
  });

  it('list shows every stored key, and no staged upload', async () => {
    expect(await blobs().list()).toEqual([]);
    const keys = ['job_b', 'job_a', 'job_c'];
    for (const key of keys) await blobs().put(await blobs().stage(streamOf(key), `${key}.csv`), key);
    await blobs().stage(streamOf('waiting'), 'staged.csv');
    expect((await blobs().list()).sort()).toEqual([...keys].sort());
    expect((await (await opened().another()).blobs.list()).sort()).toEqual([...keys].sort());
  });

  it('delete removes a stored blob, and no other', async () => {
    await blobs().put(await blobs().stage(streamOf('one'), 'one.csv'), 'job_1');
    await blobs().put(await blobs().stage(streamOf('two'), 'two.csv'), 'job_2');
    await blobs().delete('job_1');
    expect(await blobs().list()).toEqual(['job_2']);
    expect(await readBlob(blobs(), 'job_2')).toEqual(Buffer.from('two'));
  });

  it('discard deletes a staged upload and stores nothing', async () => {
    const upload = await blobs().stage(streamOf('unwanted'), 'unwanted.csv');
    await blobs().discard(upload);
    expect(await exists(upload.path)).toBe(false);
    expect(await blobs().list()).toEqual([]);
  });

  it('clearStaging deletes staged uploads and keeps stored blobs', async () => {
    await blobs().put(await blobs().stage(streamOf('kept'), 'kept.csv'), 'job_kept');
    const first = await blobs().stage(streamOf('half received'), 'a.csv');
    const second = await blobs().stage(streamOf('another half'), 'b.csv');
    await blobs().clearStaging();
    expect(await exists(first.path)).toBe(false);
    expect(await exists(second.path)).toBe(false);
    expect(await blobs().list()).toEqual(['job_kept']);
    expect(await readBlob(blobs(), 'job_kept')).toEqual(Buffer.from('kept'));
    // Staging still works afterwards.
    const again = await blobs().stage(streamOf('next'), 'next.csv');
    await blobs().put(again, 'job_next');
    expect((await blobs().list()).sort()).toEqual(['job_kept', 'job_next']);
  });

  it('streams a large upload through without holding it in memory, and stores it intact', async () => {
    const size = 20 * MB;
    const chunkSize = 64 * 1024;
    const gc = garbageCollector();
    const live = () => {
      gc?.();
      return process.memoryUsage().arrayBuffers;
    };
    const hash = createHash('sha256');
    let produced = 0;
    let peak = 0;
    const baseline = live();
    const source = new Readable({
      read() {
        if (produced === size) return void this.push(null);
        if (produced % MB === 0) peak = Math.max(peak, live() - baseline);
        const chunk = Buffer.alloc(chunkSize, (produced / chunkSize) % 251);
        chunk.writeUInt32BE(produced / chunkSize);
        hash.update(chunk);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const upload = await blobs().stage(source, 'large.csv');
    const expected = hash.digest('hex');
    expect(upload).toMatchObject({ size, sha256: expected });
    // Holding the upload would keep up to 20 MB alive; streaming keeps a few buffers.
    if (gc) expect(peak).toBeLessThan(8 * MB);

    await blobs().put(upload, 'job_large');
    const file = await blobs().localFile('job_large');
    try {
      expect(await sha256OfFile(file.path)).toEqual({ sha256: expected, size });
    } finally {
      await file.release();
    }
  });

  it('refuses keys that would escape: put, localFile and delete', async () => {
    const upload = await blobs().stage(streamOf('payload'), 'p.csv');
    // Names no one else uses: a store that let them through must not touch anything real.
    const outside = `sluice-contract-escape-${randomUUID()}`;
    for (const key of [`../${outside}`, `a/${outside}`, '..', '.', `/tmp/${outside}`, `../../${outside}`]) {
      await expect(blobs().put(upload, key), key).rejects.toThrow();
      await expect(blobs().localFile(key), key).rejects.toThrow();
      await expect(blobs().delete(key), key).rejects.toThrow();
    }
    await blobs().put(upload, 'job_ok');
    expect(await blobs().list()).toEqual(['job_ok']);
  });

  it('refuses the empty key', async () => {
    await blobs().put(await blobs().stage(streamOf('stored'), 's.csv'), 'job_stored');
    const upload = await blobs().stage(streamOf('payload'), 'p.csv');
    await expect(blobs().put(upload, '')).rejects.toThrow();
    await expect(blobs().localFile('')).rejects.toThrow();
    await expect(blobs().delete('')).rejects.toThrow();
    expect(await blobs().list()).toEqual(['job_stored']);
    expect(await readBlob(blobs(), 'job_stored')).toEqual(Buffer.from('stored'));
  });
});
