import type { ParserOptions, RecordBurst } from './csv-record-reader';
import { splitLine } from './csv-line-split';
import { RecordMachine } from './csv-record-machine';

/** The index of `search` in `text` from `from`, or the text's length when there is none (a cached "none" stays valid). */
function nextIndex(text: string, search: string, from: number): number {
  const index = text.indexOf(search, from);
  return index === -1 ? text.length : index;
}

/**
 * A CSV tokenizer for UTF-8 input (a delimiter and a quote of one ASCII character each, neither CR nor
 * LF) that gives exactly the records, verdicts and record ends of csv-parse as csvParseParser()
 * configures it. Whole lines (no CR or LF but their record delimiter) are split
 * with indexOf, and with split() when they hold no quote; anything else (a quoted line end, a stray
 * quote, the first line) goes through RecordMachine, character by character. The text held is the
 * last chunk and the record it ends in.
 */
export class CsvTokenizer {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly machine: RecordMachine;
  private text = '';
  private position = 0;
  /** The input's byte offset of `text`'s first character. */
  private textOffset = 0;
  private bomChecked: boolean;
  private records: string[][] = [];
  /** Where the last record ends: an index in `text` until the text moves on, then a byte offset. */
  private lastEndIndex = -1;
  private lastEnd = 0;
  /** The next quote, CR and LF at or after the position (the text's length when there is none). */
  private nextQuote = -1;
  private nextCR = -1;
  private nextLF = -1;

  constructor(private readonly options: ParserOptions) {
    this.bomChecked = !options.bom;
    this.machine = new RecordMachine({
      delimiter: options.delimiter.charCodeAt(0),
      quote: options.quote.charCodeAt(0),
      maxRecordBytes: options.maxRecordBytes,
      onRecord: (cells, end) => {
        this.records.push(cells);
        this.lastEndIndex = end;
      },
      onSkipped: options.onSkipped,
    });
  }

  push(chunk: Buffer): void {
    this.append(this.decoder.decode(chunk, { stream: true }));
    this.parse(false);
  }

  end(): void {
    this.append(this.decoder.decode());
    this.parse(true);
    this.machine.finish(this.text.length);
  }

  /** The records parsed since the last call. */
  take(): RecordBurst {
    this.settleLastEnd();
    const records = this.records;
    this.records = [];
    return { records, end: this.lastEnd };
  }

  private settleLastEnd(): void {
    if (this.lastEndIndex < 0) return;
    this.lastEnd = this.textOffset + Buffer.byteLength(this.text.slice(0, this.lastEndIndex));
    this.lastEndIndex = -1;
  }

  /** Drops the text read, keeps the rest, adds `more`. */
  private append(more: string): void {
    this.settleLastEnd();
    this.textOffset += Buffer.byteLength(this.text.slice(0, this.position));
    this.text = this.text.slice(this.position) + more;
    this.position = 0;
    this.nextQuote = this.nextCR = this.nextLF = -1;
    if (!this.bomChecked && this.text.length > 0) {
      this.bomChecked = true;
      if (this.text.charCodeAt(0) === 0xfeff) this.position = 1;
    }
  }

  private parse(final: boolean): void {
    const text = this.text;
    const machine = this.machine;
    while (this.position < text.length) {
      const end = machine.atRecordStart && machine.recordDelimiter !== null ? this.wholeLine() : -1;
      if (end >= 0) {
        this.position = end;
        continue;
      }
      const stop = machine.run(text, this.position, final);
      // No record ended: the text ran out inside one (or before a character could be told).
      const waiting = stop === this.position || !machine.atRecordStart;
      this.position = stop;
      if (waiting && !final) return;
    }
  }

  /**
   * The fast path: a whole line from the position, with no CR or LF but its record delimiter, short
   * enough that csv-parse's size check cannot fail on it, and plainly quoted if at all, is split.
   * Returns where the next record starts, or -1 when the line is not such a line.
   */
  private wholeLine(): number {
    const { text, position } = this;
    const delimiter = this.machine.recordDelimiter!;
    const lineEnd = delimiter.length === 2 ? text.indexOf(delimiter, position) : delimiter === '\n' ? this.lf(position) : this.cr(position);
    if (lineEnd === -1 || lineEnd === text.length) return -1;
    if (this.cr(position) < lineEnd || this.lf(position) < lineEnd) return -1;
    // Bytes are at most 3 per UTF-16 unit; csv-parse's check cannot fail on a line of fewer than max + 2 bytes.
    if ((lineEnd - position) * 3 > this.options.maxRecordBytes + 1) return -1;
    const next = lineEnd + delimiter.length;
    if (lineEnd > position) {
      const { delimiter: separator, quote } = this.options;
      const cells = this.quote(position) < lineEnd ? splitLine(text, position, lineEnd, separator, quote) : text.slice(position, lineEnd).split(separator);
      if (cells === null) return -1;
      this.machine.emit(cells, next);
    }
    this.machine.countLine();
    return next;
  }

  private quote(from: number): number {
    if (this.nextQuote < from) this.nextQuote = nextIndex(this.text, this.options.quote, from);
    return this.nextQuote;
  }

  private cr(from: number): number {
    if (this.nextCR < from) this.nextCR = nextIndex(this.text, '\r', from);
    return this.nextCR;
  }

  private lf(from: number): number {
    if (this.nextLF < from) this.nextLF = nextIndex(this.text, '\n', from);
    return this.nextLF;
  }
}
