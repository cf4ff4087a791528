import type { PackedBurst } from './burst-codec';
import type { SourceSpec } from './open-source';
import type { SourcePosition } from './source';

/** How a failure crosses from the reader thread: enough to raise the same kind of error on the other side. */
export type ReaderFailure =
  | { kind: 'ingest'; code: string; message: string }
  | { kind: 'storage'; code: string; syscall: string | undefined; message: string }
  | { kind: 'crash'; message: string };

/** To the reader: read from a position; `credit` allows that many more bursts to be sent. */
export type ReaderCommand = { type: 'read'; from: SourcePosition; credit: number } | { type: 'credit' };

/** From the reader: its source's messages once open, then bursts (each with the bytes read so far), then the end or a failure. */
export type ReaderMessage =
  | { type: 'open'; messages: Record<string, string> }
  | { type: 'burst'; burst: PackedBurst; bytesRead: number }
  | { type: 'end'; bytesRead: number }
  | { type: 'failed'; failure: ReaderFailure };

export type ReaderData = SourceSpec;
