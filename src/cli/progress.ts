import { Presets, SingleBar } from 'cli-progress';
import { isTerminal } from './follow';
import { progressParts } from './format';
import type { JobStateFragment } from './generated';

/** Shows a job's progress on stdout as its states come; paused while a question is on screen. */
export interface ProgressView {
  update(job: JobStateFragment): void;
  pause(): void;
  resume(): void;
  /** Prints a line on stderr without garbling the display. */
  note(line: string): void;
  /** Leaves the display with the last state shown. */
  finish(): void;
}

/** A bar on a terminal; plain lines for a file or a pipe (a log, CI). */
export function progressView(): ProgressView {
  return process.stdout.isTTY ? new BarView() : new LineView();
}

const BAR_FORMAT = '{bar} {percent}  {rows} rows  {speed} rows/s  ETA {etaText}  {rejected} rejected  {stage}';
/** What the format needs besides the bar, with millions of rows; cli-progress cuts a line at the terminal's width. */
const TEXT_WIDTH = 64;

/** The bar takes what the text leaves of the terminal's width (80 when the terminal does not say). */
function barSize(): number {
  return Math.min(40, Math.max(10, (process.stdout.columns || 80) - TEXT_WIDTH));
}

class BarView implements ProgressView {
  private readonly bar = new SingleBar({ stream: process.stdout, format: BAR_FORMAT, barsize: barSize(), hideCursor: true }, Presets.shades_classic);
  private last: JobStateFragment | null = null;
  private paused = false;
  private drawn = false;

  update(job: JobStateFragment): void {
    this.last = job;
    if (this.paused) return;
    const payload = progressParts(job);
    if (this.drawn) this.bar.update(job.progress.percent, payload);
    else this.bar.start(100, job.progress.percent, payload);
    this.drawn = true;
  }

  pause(): void {
    this.paused = true;
    this.bar.stop(); // draws the bar a last time and moves to the next line
    this.drawn = false;
  }

  resume(): void {
    this.paused = false;
    if (this.last) this.update(this.last);
  }

  note(line: string): void {
    const paused = this.paused;
    this.pause();
    process.stderr.write(`${line}\n`);
    if (!paused) this.resume();
  }

  finish(): void {
    this.bar.stop();
  }
}

/** At most one line a second, and always the last state. */
const LINE_INTERVAL_MS = 1000;

class LineView implements ProgressView {
  private pending: JobStateFragment | null = null;
  private printedAt = 0;
  private paused = false;

  update(job: JobStateFragment): void {
    this.pending = job;
    if (!this.paused && (isTerminal(job) || Date.now() - this.printedAt >= LINE_INTERVAL_MS)) this.print();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  note(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  finish(): void {
    if (this.pending) this.print();
  }

  private print(): void {
    const parts = progressParts(this.pending!);
    console.log(`${parts.percent}  ${parts.rows} rows  ${parts.rejected} rejected  ${parts.speed} rows/s  ETA ${parts.etaText}  ${parts.status} (${parts.stage})`);
    this.pending = null;
    this.printedAt = Date.now();
  }
}
