import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { WorkerEngineSpec } from '../ports/engine';
import { spawnIngestThread } from './spawn';
import type { IngestTask } from './task';
import type { StopCommand, ThreadMessage, WorkerCommand, WorkerData, WorkerReport } from './worker-protocol';

export interface WorkerPoolOptions {
  /** Threads kept started and waiting for jobs; a job beyond them gets a thread of its own, ended after it. */
  size: number;
  engine: WorkerEngineSpec;
  aliveIntervalMs: number;
  log: Logger;
  /** How a thread is started: the ingest worker's entry, unless a test stands in a thread of its own making. */
  spawn?: (data: WorkerData) => Worker;
}

/**
 * One attempt's view of the pooled thread that runs it, shaped like a Worker's: `message` (its
 * reports), `error`, and `exit` once the attempt is over on the thread: code 0 when the thread
 * closed the attempt's sink and went back to the pool, else the code the thread itself exited with.
 */
export class AttemptThread extends EventEmitter<{ message: [WorkerReport]; error: [Error]; exit: [number] }> {
  constructor(
    private thread: PooledThread | null,
    /** Ends a thread for good. */
    private readonly end: (thread: PooledThread) => Promise<void>,
  ) {
    super();
  }

  /** Asks the attempt to stop; dropped once the attempt is over (its thread may run another job by then). */
  stop(type: StopCommand, attempt: string): void {
    this.thread?.worker.postMessage({ type, attempt } satisfies WorkerCommand);
  }

  /** Ends the thread whatever it is doing (the pool starts a fresh one); resolves once it exited. Nothing when the attempt is over. */
  async terminate(): Promise<void> {
    if (this.thread) await this.end(this.thread);
  }

  /** The attempt is over on its thread. */
  detach(code: number): void {
    if (!this.thread) return;
    this.thread = null;
    this.emit('exit', code);
  }
}

interface PooledThread {
  worker: Worker;
  /** The worker's threadId, kept for the log once it exited. */
  id: number;
  /** Whether its code loaded: only such a thread is replaced at once when it dies (one that fails to load would fail again). */
  ready: boolean;
  /** Set once it is being terminated: it takes no job, even if its last attempt's end arrives meanwhile. */
  ending: boolean;
  attempt: AttemptThread | null;
}

/**
 * Ingest threads started ahead of the jobs, each running one attempt at a time and then the next, so
 * that a small job pays neither a thread's start nor its modules' loading. A thread that dies (ended
 * by a hard stop, crashed, out of memory) takes only its own attempt with it and is replaced.
 */
export class IngestWorkerPool {
  private readonly threads = new Set<PooledThread>();
  /** Threads waiting for a job, the last used on top: its caches are the warmest. */
  private readonly idle: PooledThread[] = [];
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts the pool's threads; they load their code while the server goes on starting. */
  start(): void {
    while (this.threads.size < this.options.size) this.idle.push(this.add());
  }

  /** Runs an attempt on a waiting thread (one whose code is loaded first), or on a new one when none waits. */
  run(task: IngestTask, log: Logger): AttemptThread {
    const thread = this.takeIdle() ?? this.add();
    const attempt = new AttemptThread(thread, (ended) => this.end(ended));
    thread.attempt = attempt;
    thread.worker.postMessage({ type: 'run', task } satisfies WorkerCommand);
    log.info({ thread: thread.id }, 'the job runs on ingest thread');
    return attempt;
  }

  private takeIdle(): PooledThread | undefined {
    const ready = this.idle.findLastIndex((thread) => thread.ready);
    return this.idle.splice(ready === -1 ? this.idle.length - 1 : ready, 1)[0];
  }

  /** Ends every thread (attempts still running on them exit as a terminated thread's). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.threads].map((thread) => this.end(thread)));
  }

  private async end(thread: PooledThread): Promise<void> {
    thread.ending = true;
    await thread.worker.terminate();
  }

  private add(): PooledThread {
    const { spawn = spawnIngestThread, engine, aliveIntervalMs } = this.options;
    const worker = spawn({ engine, aliveIntervalMs });
    worker.unref(); // waiting threads do not keep the process alive; close() ends them
    const thread: PooledThread = { worker, id: worker.threadId, ready: false, ending: false, attempt: null };
    this.threads.add(thread);
    worker.on('message', (message: ThreadMessage) => this.heard(thread, message));
    worker.on('error', (error) => {
      if (thread.attempt) thread.attempt.emit('error', error);
      else this.options.log.error({ err: error, thread: thread.id }, 'an idle ingest thread failed');
    });
    worker.on('exit', (code) => this.exited(thread, code));
    this.options.log.info({ thread: thread.id }, 'ingest thread started');
    return thread;
  }

  private heard(thread: PooledThread, message: ThreadMessage): void {
    if (message.type === 'ready') thread.ready = true;
    else if (message.type === 'idle') this.released(thread);
    else thread.attempt?.emit('message', message);
  }

  /** An attempt is over and its thread closed what it opened: the thread waits for the next job, unless the pool has enough waiting. */
  private released(thread: PooledThread): void {
    if (thread.ending) return; // its exit ends the attempt
    const attempt = thread.attempt;
    thread.attempt = null;
    if (this.closed || this.threads.size > this.options.size) void this.end(thread);
    else this.idle.push(thread); // before the attempt's end frees its slot: the next job finds this thread waiting
    attempt?.detach(0);
  }

  private exited(thread: PooledThread, code: number): void {
    this.threads.delete(thread);
    const waiting = this.idle.indexOf(thread);
    if (waiting !== -1) this.idle.splice(waiting, 1);
    thread.attempt?.detach(code);
    thread.attempt = null;
    if (this.closed || !thread.ready || this.threads.size >= this.options.size) return;
    this.options.log.info({ thread: thread.id, code }, 'replacing an ingest thread that exited');
    this.idle.push(this.add());
  }
}
