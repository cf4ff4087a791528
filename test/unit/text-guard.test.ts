import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { decodingGuard, utf8Guard } from '../../src/ingest/text-guard';

/** What a guard passes on for these chunks, or the code and message it fails with. */
async function through(guard: NodeJS.ReadWriteStream, chunks: Buffer[]): Promise<string | { code: string; message: string }> {
  try {
    return await text(Readable.from(chunks).pipe(guard));
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
}

/** Every way of cutting `bytes` into two chunks. */
const cuts = (bytes: Buffer) => Array.from({ length: bytes.length + 1 }, (_, at) => [bytes.subarray(0, at), bytes.subarray(at)]);

describe('utf8Guard', () => {
  const valid = Buffer.from('id,name\n1,é漢😀\n', 'utf8');

  it('passes valid text through unchanged wherever a chunk boundary splits a character', async () => {
    for (const chunks of cuts(valid)) expect(await through(utf8Guard(0), chunks)).toBe(valid.toString('utf8'));
  });

  it('fails an invalid sequence with ENCODING_ERROR at its byte offset (counted from where reading started), wherever the chunks split', async () => {
    const bytes = Buffer.concat([Buffer.from('ab\n'), Buffer.from([0xe6, 0xbc]), Buffer.from('x\n')]); // a 3-byte sequence cut short at offset 3
    for (const chunks of cuts(bytes)) expect(await through(utf8Guard(100), chunks)).toMatchObject({ code: 'ENCODING_ERROR', message: expect.stringContaining('byte offset 103') });
  });

  it('fails a sequence left unfinished at the end of the file, and a NUL byte with BINARY_FILE', async () => {
    expect(await through(utf8Guard(0), [Buffer.from([0x61, 0xf0, 0x9f])])).toMatchObject({ code: 'ENCODING_ERROR', message: expect.stringContaining('byte offset 1') });
    expect(await through(utf8Guard(0), [Buffer.from('abc'), Buffer.from('d\0')])).toMatchObject({ code: 'BINARY_FILE', message: expect.stringContaining('byte offset 4') });
  });
});

describe('decodingGuard', () => {
  it('decodes UTF-16LE split anywhere, and fails a lone surrogate with ENCODING_ERROR and a NUL character with BINARY_FILE', async () => {
    const utf16 = Buffer.from('a,😀\n', 'utf16le');
    for (const chunks of cuts(utf16)) expect(await through(decodingGuard('utf-16le', 0), chunks)).toBe('a,😀\n');
    expect(await through(decodingGuard('utf-16le', 0), [Buffer.from([0x3d, 0xd8, 0x61, 0x00])])).toMatchObject({ code: 'ENCODING_ERROR' });
    expect(await through(decodingGuard('windows-1252', 0), [Buffer.from('a\0b', 'latin1')])).toMatchObject({ code: 'BINARY_FILE' });
  });
});
