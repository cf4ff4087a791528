import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { usageError } from './errors';

/**
 * A GraphQL multipart request (operations, map, then the file at `variables.input.file`) whose file
 * part is read from disk as it is sent: the file is never held in memory.
 */
export async function multipartBody(query: string, variables: { input: object }, filePath: string): Promise<{ body: Readable; headers: Record<string, string> }> {
  const size = await fileSize(filePath);
  const boundary = `sluice-${randomUUID()}`;
  const operations = JSON.stringify({ query, variables: { ...variables, input: { ...variables.input, file: null } } });
  const head = Buffer.from(
    field(boundary, 'name="operations"', operations) +
      field(boundary, 'name="map"', JSON.stringify({ 0: ['variables.input.file'] })) +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; ${fileNameParameter(basename(filePath))}\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Readable.from(parts(head, filePath, tail)),
    // The length up front lets the server refuse a file over its limit before it is sent.
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
  };
}

async function* parts(head: Buffer, filePath: string, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  // Chunks of 16 KiB rather than 64: the chunks sent and not yet collected then weigh a few MB, not tens.
  yield* createReadStream(filePath, { highWaterMark: 16 * 1024 });
  yield tail;
}

function field(boundary: string, disposition: string, value: string): string {
  return `--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${value}\r\n`;
}

/** The file's name as the job shows it: plain when it is printable ASCII, else RFC 5987 UTF-8 (which busboy decodes). */
function fileNameParameter(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) && !name.includes('"') ? `filename="${name}"` : `filename*=UTF-8''${encodeURIComponent(name)}`;
}

async function fileSize(filePath: string): Promise<number> {
  try {
    const file = await stat(filePath);
    if (!file.isFile()) throw new Error(`${filePath} is not a file`);
    return file.size;
  } catch (error) {
    throw usageError(`cannot read ${filePath}: ${(error as Error).message}`);
  }
}
