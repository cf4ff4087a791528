import type { Readable } from 'node:stream';

/** An upload received and synced, not yet owned by a job: readable at `path` until it is stored or discarded. */
export interface StagedUpload {
  path: string;
  name: string;
  size: number;
  sha256: string;
  /** The first bytes, for format detection. */
  head: Buffer;
}

/** A blob's bytes as a local file; `release` when done with it (a copy is deleted then). */
export interface LocalFile {
  path: string;
  release(): Promise<void>;
}

/** Where uploads wait for their jobs, by key. */
export interface BlobStore {
  /** Streams an upload in while hashing it; resolves once its bytes are durable. */
  stage(stream: Readable, name: string): Promise<StagedUpload>;
  /** Stores a staged upload under `key`, durably; the staged copy is gone afterwards. */
  put(upload: StagedUpload, key: string): Promise<void>;
  /** Deletes a staged upload that no job took. */
  discard(upload: StagedUpload): Promise<void>;
  /** The blob as a local file to read (the file itself where blobs are local files, else a copy); reading a missing blob fails with ENOENT. */
  localFile(key: string): Promise<LocalFile>;
  delete(key: string): Promise<void>;
  /** Every stored key, for clean-up; with `storedBefore` (epoch ms), only those stored before then. */
  list(storedBefore?: number): Promise<string[]>;
  /** Deletes every staged upload (a previous process's half-received ones); called at start. */
  clearStaging(): Promise<void>;
}
