import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, LocalFile, StagedUpload } from '../../ports/blob-store';
import { receiveToFile } from '../../uploads/receive';

const STAGING = 'tmp';

/**
 * Uploads as files of the spool folder in the data directory: `tmp/` while they arrive, then one
 * file per key (a job's id). Storing a staged upload is a rename, and reading a blob needs no copy.
 */
export class SpoolBlobStore implements BlobStore {
  private readonly staging: string;

  constructor(private readonly dir: string) {
    this.staging = join(dir, STAGING);
  }

  async stage(stream: Readable, name: string): Promise<StagedUpload> {
    await mkdir(this.staging, { recursive: true });
    const path = join(this.staging, randomUUID());
    return { path, name, ...(await receiveToFile(stream, path)) };
  }

  async put(upload: StagedUpload, key: string): Promise<void> {
    await rename(upload.path, this.pathOf(key));
  }

  async discard(upload: StagedUpload): Promise<void> {
    await rm(upload.path, { force: true });
  }

  async localFile(key: string): Promise<LocalFile> {
    return { path: this.pathOf(key), release: async () => {} };
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { recursive: true, force: true });
  }

  async list(storedBefore = Number.POSITIVE_INFINITY): Promise<string[]> {
    await mkdir(this.dir, { recursive: true });
    const keys = (await readdir(this.dir)).filter((name) => name !== STAGING);
    if (storedBefore === Number.POSITIVE_INFINITY) return keys;
    const stored = await Promise.all(keys.map(async (key) => ({ key, at: (await stat(this.pathOf(key))).mtimeMs })));
    return stored.filter(({ at }) => at < storedBefore).map(({ key }) => key);
  }

  async clearStaging(): Promise<void> {
    await rm(this.staging, { recursive: true, force: true });
    await mkdir(this.staging, { recursive: true });
  }

  private pathOf(key: string): string {
    // A key names a file of this folder, never a path out of it.
    if (key === '' || basename(key) !== key || key === '..' || key === '.') throw new Error(`not a blob key: ${JSON.stringify(key)}`);
    return join(this.dir, key);
  }
}
