import { on } from 'node:events';
import { setImmediate } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { unpack } from './burst-codec';
import type { SourceSpec } from './open-source';
import type { ReaderCommand, ReaderData, ReaderFailure, ReaderMessage } from './reader-protocol';
import { type RowSource, type SourceBurst, type SourcePosition, START } from './source';
import { IngestError, outOfMemory } from './ingest-error';

const entry = new URL('./reader-entry.mjs', import.meta.url);
/** Bursts the reader may have sent ahead of the one being handled: enough to keep it busy, few enough to keep memory flat. */
const BURSTS_AHEAD = 4;
/**
 * The reader's heap limits, in MB. A CSV parser keeps almost nothing: a small heap keeps the server's
 * memory flat. The XLSX reader keeps the workbook's shared strings (every distinct text of the sheet):
 * its heap peaks at 44 MB for the bench's 200k rows (605k distinct texts); the room is for larger tables.
 */
const READER_HEAP_LIMITS = {
  CSV: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
  XLSX: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
};

/** The error the reader's failure would have been had the source run in this thread. */
function restore(failure: ReaderFailure): Error {
  if (failure.kind === 'ingest') return new IngestError(failure.code, failure.message);
  if (failure.kind === 'storage') return Object.assign(new Error(failure.message), { code: failure.code, syscall: failure.syscall });
  return new Error(`the reader thread failed: ${failure.message}`);
}

/**
 * A source parsed in a thread of its own: the same records and positions as the source itself, while
 * this thread validates and writes them. The reader is stopped when reading ends, early or not.
 */
export async function threadedSource(spec: SourceSpec): Promise<RowSource> {
  const data: ReaderData = spec;
  const reader = new Worker(entry, { workerData: data, resourceLimits: READER_HEAP_LIMITS[spec.format] });
  reader.unref(); // an ingest that ends by failing must not be kept alive by its reader
  const inbox = on(reader, 'message', { close: ['exit'] }) as AsyncIterableIterator<[ReaderMessage]>;
  const command = (message: ReaderCommand) => reader.postMessage(message);
  const stop = async () => {
    await inbox.return?.();
    await reader.terminate();
  };

  const first = await inbox.next().catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const opened = first.done ? null : first.value[0];
  if (opened?.type !== 'open') {
    await stop();
    throw opened?.type === 'failed' ? restore(opened.failure) : new Error('the reader thread exited before opening the file');
  }
  let bytesRead = 0;

  async function* items(from: SourcePosition = START): AsyncGenerator<SourceBurst> {
    command({ type: 'read', from, credit: BURSTS_AHEAD });
    try {
      for await (const [message] of inbox) {
        if (message.type === 'failed') throw restore(message.failure);
        bytesRead = message.type === 'open' ? bytesRead : message.bytesRead;
        if (message.type === 'end') return;
        if (message.type === 'burst') {
          command({ type: 'credit' });
          // Each burst is handled in a turn of its own: handled straight from the message callback, a
          // steady stream of bursts would keep this thread from seeing its own commands (pause, cancel).
          await setImmediate();
          yield unpack(message.burst);
        }
      }
      throw new Error('the reader thread exited before the end of the file');
    } catch (error) {
      throw outOfMemory(error) ?? error;
    } finally {
      await stop();
    }
  }

  return { items, bytesRead: () => bytesRead, messages: opened.messages };
}
