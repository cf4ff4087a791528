import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import type { BlobStore, StagedUpload } from '../ports/blob-store';

function badRequest(message: string): Error {
  return createGraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

function fileTooLarge(): Error {
  return createGraphQLError('the uploaded file is too large', { extensions: { code: 'FILE_TOO_LARGE', http: { status: 413 } } });
}

function fieldTooLarge(name: string): Error {
  return createGraphQLError(`multipart field "${name}" is too large`, { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
}

/** What one multipart request may carry: a file of up to `fileBytes`, and fields (`operations`, `map`) of up to `fieldBytes` each. */
export interface UploadLimits {
  fileBytes: number;
  fieldBytes: number;
}

// Part headers and boundaries around the file and the two fields.
const FRAMING_BYTES = 64 * 1024;

/** The largest multipart body: the largest file, the operations and map fields, and their framing. */
export function multipartBodyLimit(limits: UploadLimits): number {
  return limits.fileBytes + 2 * limits.fieldBytes + FRAMING_BYTES;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Puts an upload where the multipart `map` says, only along the operation's own `variables` keys. */
function setPath(operations: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys[0] !== 'variables' || keys.length < 2 || keys.some((key) => FORBIDDEN_KEYS.has(key))) {
    throw badRequest(`multipart map path "${path}" must point into the operation's variables`);
  }
  let node = operations;
  for (const key of keys.slice(0, -1)) {
    const child = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof child !== 'object' || child === null) throw badRequest(`multipart map path "${path}" does not exist in operations`);
    node = child as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** Uploads that came in through a multipart request: the only values the File scalar accepts (a client cannot forge one in JSON). */
const streamed = new WeakSet<StagedUpload>();

export function isStreamedUpload(value: unknown): value is StagedUpload {
  return typeof value === 'object' && value !== null && streamed.has(value as StagedUpload);
}

function multipartParser(request: Request, limits: UploadLimits): busboy.Busboy {
  return busboy({
    headers: { 'content-type': request.headers.get('content-type')! },
    // The API takes one file per request. busboy reports 'limit' once a file reaches fileSize bytes,
    // so a file of exactly `limits.fileBytes` passes.
    limits: { fieldSize: limits.fieldBytes, fileSize: limits.fileBytes + 1, fields: 8, files: 1, parts: 10 },
  });
}

/** One multipart request's parts as busboy reads them: the operations and map fields, then the file, staged and put where the map says. */
class MultipartParts {
  private operations: Record<string, unknown> | null = null;
  private map: Record<string, string[]> | null = null;
  /** Files being staged: each settles once its upload is in `uploads` (or its staging failed). */
  readonly received: Array<Promise<void>> = [];

  constructor(
    private readonly blobs: BlobStore,
    private readonly uploads: StagedUpload[],
  ) {}

  /** Settles once busboy has closed; fails at the first part the request may not have. */
  readFrom(parser: busboy.Busboy): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      parser.on('field', (name, value, info) => this.field(name, value, info, reject));
      parser.on('file', (name, stream, info) => this.file(name, stream, info, reject));
      parser.on('filesLimit', () => reject(badRequest('one file per request')));
      parser.on('fieldsLimit', () => reject(badRequest('too many multipart fields')));
      parser.on('partsLimit', () => reject(badRequest('too many multipart parts')));
      // Yoga's own errors (the body size limit: 413) pass as they are; anything else is a bad request.
      parser.on('error', (error) => reject((error as { extensions?: unknown }).extensions ? error : badRequest(`malformed multipart request: ${(error as Error).message}`)));
      parser.on('close', resolve);
    });
  }

  /** The operation the request carries, once every part is in. */
  params(): GraphQLParams {
    if (!this.operations) throw badRequest('the multipart request has no "operations" field');
    if (Array.isArray(this.operations)) throw badRequest('batched operations are not supported');
    return this.operations as GraphQLParams;
  }

  private field(name: string, value: string, info: busboy.FieldInfo, fail: (error: Error) => void): void {
    if (info.valueTruncated) {
      fail(fieldTooLarge(name));
      return;
    }
    try {
      if (name === 'operations') this.operations = JSON.parse(value);
      else if (name === 'map') this.map = JSON.parse(value);
    } catch {
      fail(badRequest(`multipart field "${name}" is not valid JSON`));
    }
  }

  private file(name: string, stream: Readable, info: busboy.FileInfo, fail: (error: Error) => void): void {
    const paths = this.map?.[name];
    if (!this.operations || !paths) {
      stream.resume();
      fail(badRequest(`multipart file "${name}" comes before "operations" and "map", or is not in the map`));
      return;
    }
    const target = this.operations;
    // Failing the file's stream fails its spooling, which removes the partial file; the rest of the body is skipped.
    stream.on('limit', () => {
      const error = fileTooLarge();
      fail(error);
      stream.destroy(error);
    });
    this.received.push(
      this.blobs.stage(stream, info.filename ?? name).then((upload) => {
        this.uploads.push(upload);
        streamed.add(upload);
        for (const path of paths) setPath(target, path, upload);
      }),
    );
  }
}

/**
 * Parses a GraphQL multipart request (the spec's operations, map, then files) as a stream: each
 * file goes straight to the spool, never into memory.
 */
async function parseMultipart(request: Request, blobs: BlobStore, limits: UploadLimits, uploads: StagedUpload[]): Promise<GraphQLParams> {
  if (!request.body) throw badRequest('the multipart request has no body');
  const parser = multipartParser(request, limits);
  const parts = new MultipartParts(blobs, uploads);
  const done = parts.readFrom(parser);
  // pipeline() carries a failing body (client gone, size limit) into the parser, which ends the file being spooled.
  pipeline(Readable.from(request.body as unknown as AsyncIterable<Uint8Array>), parser).catch(() => {
    // reported through the parser's 'error' event
  });
  try {
    await done;
  } finally {
    // Files still arriving when the request turned out bad must land in `uploads`, to be discarded.
    await Promise.allSettled(parts.received);
  }
  await Promise.all(parts.received);
  return parts.params();
}

/** Yoga plugin: streaming multipart uploads, and removal of any upload that no job adopted. */
export function useStreamingUploads(blobs: BlobStore, limits: UploadLimits): Plugin {
  const uploadsOf = new WeakMap<Request, StagedUpload[]>();
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST' || !request.headers.get('content-type')?.startsWith('multipart/form-data')) return;
      const uploads: StagedUpload[] = [];
      uploadsOf.set(request, uploads);
      setRequestParser((req) => parseMultipart(req, blobs, limits, uploads));
    },
    async onResponse({ request }) {
      // Adopted uploads were moved away; whatever is still in tmp/ belongs to no job.
      await Promise.all((uploadsOf.get(request) ?? []).map((upload) => blobs.discard(upload)));
    },
  };
}
