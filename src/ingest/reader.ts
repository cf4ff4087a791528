import { parentPort, workerData } from 'node:worker_threads';
import { pack } from './burst-codec';
import { openSource } from './open-source';
import type { ReaderCommand, ReaderData, ReaderFailure, ReaderMessage } from './reader-protocol';
import { type RowSource } from './source';
import { IngestError } from './ingest-error';
import { runInBackground } from './thread-priority';
import { isStorageFault } from './storage-fault';

// Entry of the thread that parses a file for an ingest worker, so that parsing and writing run on two cores.
const port = parentPort!;
runInBackground();
const send = (message: ReaderMessage) => port.postMessage(message);

function describe(error: unknown): ReaderFailure {
  if (error instanceof IngestError) return { kind: 'ingest', code: error.code, message: error.message };
  if (isStorageFault(error)) {
    const { code, syscall, message } = error as { code: string; syscall?: string; message: string };
    return { kind: 'storage', code, syscall, message };
  }
  return { kind: 'crash', message: (error as Error | undefined)?.stack ?? String(error) };
}

let credit = 0;
let creditGiven: (() => void) | null = null;
let source: RowSource | null = null;

async function read(from: Extract<ReaderCommand, { type: 'read' }>['from']): Promise<void> {
  try {
    for await (const burst of source!.items(from)) {
      // Bounded hand-over: at most `credit` bursts wait on the other side, so memory stays flat.
      while (credit === 0) await new Promise<void>((resolve) => (creditGiven = resolve));
      credit--;
      const { packed, transfer } = pack(burst);
      port.postMessage({ type: 'burst', burst: packed, bytesRead: source!.bytesRead() } satisfies ReaderMessage, transfer);
    }
    send({ type: 'end', bytesRead: source!.bytesRead() });
  } catch (error) {
    send({ type: 'failed', failure: describe(error) });
  } finally {
    port.close();
  }
}

port.on('message', (command: ReaderCommand) => {
  if (command.type === 'read') {
    credit = command.credit;
    void read(command.from);
    return;
  }
  credit++;
  creditGiven?.();
  creditGiven = null;
});

try {
  source = await openSource(workerData as ReaderData);
  send({ type: 'open', messages: source.messages });
} catch (error) {
  send({ type: 'failed', failure: describe(error) });
  port.close();
}
