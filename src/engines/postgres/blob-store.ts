import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import type { BlobStore, LocalFile, StagedUpload } from '../../ports/blob-store';
import { receiveToFile } from '../../uploads/receive';
import { processAlive } from '../shared/local-process';
import { DB_NOW_MS, type Pool, transaction } from './database';

/** The bytes of one row of `blob_chunks`: large enough to keep rows few, small enough to hold one at a time. */
const CHUNK_BYTES = 1024 * 1024;

/** A stored blob's bytes do not match what `blobs` says of them: the copy is not the upload. */
export class BlobCorruptError extends Error {}

/** A key names a blob, like a file name: never empty, never a path (the keys are job ids). */
function checkKey(key: string): void {
  if (key === '' || key === '.' || key === '..' || /[/\\]/.test(key)) throw new Error(`not a blob key: ${JSON.stringify(key)}`);
}

function missing(key: string): Error {
  return Object.assign(new Error(`no blob ${JSON.stringify(key)}`), { code: 'ENOENT' });
}

/**
 * Uploads in the database, in chunks, so that any instance can read any job's file without a
 * shared disk. The local scratch folder holds what is in transit: uploads being received (staged,
 * in a folder of this instance's own, since instances on one host may share the scratch folder)
 * and copies read out for a job. Bytes are streamed both ways, one chunk in memory at a time.
 */
export class PgBlobStore implements BlobStore {
  private readonly staging: string;
  private readonly copies: string;

  constructor(
    private readonly pool: Pool,
    scratchDir: string,
  ) {
    // Named after this process, so that a later start can tell what a dead one left behind.
    this.staging = join(scratchDir, 'staging', `${process.pid}-${randomUUID()}`);
    this.copies = join(scratchDir, 'copies');
  }

  async stage(stream: Readable, name: string): Promise<StagedUpload> {
    await mkdir(this.staging, { recursive: true });
    const path = join(this.staging, randomUUID());
    return { path, name, ...(await receiveToFile(stream, path)) };
  }

  /** Stores the staged file in one transaction (replacing a blob of that key), checking it is still the upload received; then deletes it. */
  async put(upload: StagedUpload, key: string): Promise<void> {
    checkKey(key);
    await transaction(this.pool, async (client) => {
      await client.query('DELETE FROM blobs WHERE key = $1', [key]);
      await client.query(`INSERT INTO blobs (key, size, sha256, created_at) VALUES ($1, $2, $3, ${DB_NOW_MS})`, [key, upload.size, upload.sha256]);
      const written = await writeChunks(client, key, upload.path);
      if (written.size !== upload.size || written.sha256 !== upload.sha256) throw new BlobCorruptError(`the staged upload ${upload.path} changed since it was received`);
    });
    await rm(upload.path, { force: true });
  }

  async discard(upload: StagedUpload): Promise<void> {
    await rm(upload.path, { force: true });
  }

  /** A local copy of the blob, read from one snapshot and checked against its size and sha256; ENOENT when there is no such blob. */
  async localFile(key: string): Promise<LocalFile> {
    checkKey(key);
    await mkdir(this.copies, { recursive: true });
    const path = join(this.copies, `${process.pid}-${randomUUID()}`);
    try {
      await transaction(this.pool, async (client) => {
        await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        const { rows } = await client.query<{ size: number; sha256: string }>('SELECT size, sha256 FROM blobs WHERE key = $1', [key]);
        if (!rows[0]) throw missing(key);
        const read = await readChunks(client, key, path);
        if (read.size !== rows[0].size || read.sha256 !== rows[0].sha256) throw new BlobCorruptError(`the blob ${JSON.stringify(key)} is corrupt: its bytes do not match its size and sha256`);
      });
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { path, release: () => rm(path, { force: true }) };
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.pool.query('DELETE FROM blobs WHERE key = $1', [key]);
  }

  async list(storedBefore?: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ key: string }>('SELECT key FROM blobs WHERE $1::bigint IS NULL OR created_at < $1 ORDER BY key', [storedBefore ?? null]);
    return rows.map((row) => row.key);
  }

  /**
   * This instance's staging folder, and what processes of this host that are dead left in the scratch
   * folder (staged uploads, copies); another live instance sharing it may be receiving into its own.
   */
  async clearStaging(): Promise<void> {
    await rm(this.staging, { recursive: true, force: true });
    await mkdir(this.staging, { recursive: true });
    await removeLeftByDead(dirname(this.staging));
    await removeLeftByDead(this.copies);
  }
}

/** Deletes the entries of `dir` named after a process (`<pid>-…`) that no longer runs. */
async function removeLeftByDead(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.split('-')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

interface Written {
  size: number;
  sha256: string;
}

/** Inserts the file's bytes as chunks 0, 1, …, awaiting each insert before reading on (the backpressure). */
async function writeChunks(client: pg.ClientBase, key: string, path: string): Promise<Written> {
  const hash = createHash('sha256');
  let size = 0;
  let seq = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
    await client.query('INSERT INTO blob_chunks (key, seq, data) VALUES ($1, $2, $3)', [key, seq++, chunk]);
  }
  return { size, sha256: hash.digest('hex') };
}

/** Writes the blob's chunks, in order and one at a time, into a new file at `path`. */
async function readChunks(client: pg.ClientBase, key: string, path: string): Promise<Written> {
  const hash = createHash('sha256');
  let size = 0;
  const file = await open(path, 'wx');
  try {
    for (let seq = 0; ; seq++) {
      const { rows } = await client.query<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE key = $1 AND seq = $2', [key, seq]);
      if (!rows[0]) break;
      hash.update(rows[0].data);
      size += rows[0].data.length;
      await file.writeFile(rows[0].data); // the whole chunk, from where the last one ended
    }
  } finally {
    await file.close();
  }
  return { size, sha256: hash.digest('hex') };
}
