import { isUtf8 } from 'node:buffer';
import { Transform } from 'node:stream';
import { IngestError } from './ingest-error';

/** The length of the UTF-8 sequence a byte starts, or 0 when it cannot start one. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  return byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
}

/** How many bytes at the end start a sequence that the bytes do not finish (it continues in the next chunk). */
function unfinishedTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) !== 0x80) return sequenceLength(byte) > back ? back : 0;
  }
  return 0;
}

/** Where the first invalid sequence starts. Slow, but only run once a chunk is known to hold one. */
function firstInvalid(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes[i]);
    if (n === 0 || !isUtf8(bytes.subarray(i, i + n))) return i;
    i += n;
  }
  return i;
}

function binary(offset: number, near = false): IngestError {
  const where = `${near ? 'near' : 'at'} byte offset ${offset}`;
  return new IngestError('BINARY_FILE', `the file holds a NUL byte ${where}: it is binary data, not CSV text (a UTF-16 file needs a byte order mark or csv.encoding)`);
}

function invalid(encoding: string, offset: number, near = false): IngestError {
  return new IngestError('ENCODING_ERROR', `the file is not valid ${encoding} ${near ? 'near' : 'at'} byte offset ${offset}; give its encoding in csv.encoding (windows-1252, utf-16le, …)`);
}

/**
 * Checks a UTF-8 file's bytes on their way to the parser, passing them on unchanged: a NUL byte fails
 * the job with BINARY_FILE, an invalid sequence with ENCODING_ERROR (instead of storing U+FFFD). Whole
 * chunks are checked at once (memchr, simdutf); a sequence split between chunks is checked with the next.
 */
export function utf8Guard(start: number): Transform {
  let offset = start; // of the chunk being checked
  let carry = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const nul = chunk.indexOf(0);
      if (nul !== -1) return done(binary(offset + nul));
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const whole = bytes.subarray(0, bytes.length - unfinishedTail(bytes));
      if (!isUtf8(whole)) return done(invalid('UTF-8', offset - carry.length + firstInvalid(whole)));
      carry = Buffer.from(bytes.subarray(whole.length));
      offset += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(carry.length > 0 ? invalid('UTF-8', offset - carry.length) : null);
    },
  });
}

/** Decodes a declared encoding to text for the parser (a character may span chunks), failing on invalid input and NUL characters as utf8Guard does. */
export function decodingGuard(encoding: string, start: number): Transform {
  const decoder = new TextDecoder(encoding, { fatal: true });
  let offset = start; // of the chunk being decoded: a failure is reported near it
  const decode = (chunk?: Buffer): string => {
    let text: string;
    try {
      text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw invalid(encoding, offset, true);
    }
    if (text.includes('\0')) throw binary(offset, true);
    return text;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        const text = decode(chunk);
        offset += chunk.length;
        done(null, text);
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        done(null, decode());
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
