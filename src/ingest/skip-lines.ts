import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const READ_BYTES = 64 * 1024;

/**
 * Finds, chunk by chunk, where the text after its first `lines` lines starts. Works on UTF-8 (or
 * any ASCII-compatible) bytes, where CR and LF never occur inside a multi-byte character. A line
 * ends at LF, CRLF or a lone CR; the lines are raw text, never parsed as CSV (a preamble line may
 * hold an odd quote).
 */
export class LineSkipper {
  private left: number;
  /** The last byte seen was a CR ending a line: an LF right after it, even in the next chunk, ends the same line. */
  private afterCR = false;

  constructor(lines: number) {
    this.left = lines;
  }

  /** Where in `chunk` the bytes after the skipped lines start; its length when none of its bytes is kept. */
  skip(chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (this.afterCR) {
        this.afterCR = false;
        if (byte === LF) continue;
      }
      if (this.left === 0) return i;
      if (byte === LF || byte === CR) {
        this.left--;
        this.afterCR = byte === CR;
      }
    }
    return chunk.length;
  }
}

/** The byte offset where line `lines` (from 0) of the file starts; the file's size when it has no such line. */
export async function lineStart(path: string, lines: number): Promise<number> {
  const skipper = new LineSkipper(lines);
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_BYTES })) {
    const kept = skipper.skip(chunk as Buffer);
    if (kept < (chunk as Buffer).length) return offset + kept;
    offset += (chunk as Buffer).length;
  }
  return offset;
}

/** Drops the first `lines` lines of the UTF-8 text streamed through it, passing the rest on unchanged. */
export function dropLines(lines: number): Transform {
  const skipper = new LineSkipper(lines);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const kept = skipper.skip(chunk);
      done(null, kept < chunk.length ? chunk.subarray(kept) : undefined);
    },
  });
}

/**
 * About `maxBytes` of a file's text in `encoding` after its first `lines` lines, decoded leniently: a
 * sample to detect the delimiter on, for files whose lines can only be found once decoded.
 */
export async function decodedHeadAfter(path: string, encoding: string, lines: number, maxBytes: number): Promise<string> {
  const decoder = new TextDecoder(encoding);
  const skipper = new LineSkipper(lines);
  const kept: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_BYTES })) {
    const text = Buffer.from(decoder.decode(chunk as Buffer, { stream: true }));
    const part = text.subarray(skipper.skip(text));
    kept.push(part);
    size += part.length;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(kept).toString('utf8');
}
