import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value of ingest threads: well below the main thread, which answers the API. */
const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority. On Linux a nice value applies to one thread, so
 * ingest threads yield the cores to the main thread: job(id) answers stay fast while files are parsed
 * and written on every core. Elsewhere (or when not allowed) the thread keeps its priority.
 */
export function runInBackground(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    setPriority(threadId, BACKGROUND_NICE);
  } catch {
    // not Linux: /proc/thread-self is missing; the thread runs at the default priority
  }
}
