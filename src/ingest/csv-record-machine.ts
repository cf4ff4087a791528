import { invalidClosingQuote, invalidOpeningQuote, quoteNotClosed, recordTooLarge } from './csv-verdicts';

const CR = 0x0d;
const LF = 0x0a;
/** step(): the text ends before the character can be told; more is needed. */
const NEED_MORE = -1;
/** quote() and separator(): the character is none of theirs; it is field content. */
const CONTENT = -2;

export interface MachineOptions {
  delimiter: number;
  quote: number;
  maxRecordBytes: number;
  /** A record emitted: its cells, and the index in the text just after it (its record delimiter included). */
  onRecord(cells: string[], end: number): void;
  /** A record skipped as malformed, after `afterRecords` emitted records. */
  onSkipped(afterRecords: number, message: string): void;
}

/** How many UTF-8 bytes a UTF-16 code unit stands for: a surrogate pair's 4 are counted on its first unit. */
function utf8Bytes(code: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return code <= 0xdbff ? 4 : 0;
  return 3;
}

/**
 * csv-parse's state machine for our options, one character at a time: the slow path of the tokenizer,
 * for records with quotes, the first record (before the record delimiter is known), over-long or
 * unfinished lines. It keeps csv-parse's quirks, since files must read the same whichever parser reads
 * them: one record delimiter (the first of CRLF, LF, CR met outside quotes; the others are content), a
 * line count that counts every CR and LF (but the LF of a CRLF record delimiter), a record size counted
 * in UTF-16 units for finished fields and in bytes for the current one. A malformed record gets one
 * verdict, for its first fault, however many bad quotes it holds (csvParseParser() drops csv-parse's others).
 * Resumable: it stops where the text runs out before a character can be told, and goes on with more.
 */
export class RecordMachine {
  /** The record delimiter, once the first line end outside quotes has shown it. */
  recordDelimiter: string | null = null;
  /** csv-parse's info.lines: 1 + the line ends met so far. */
  lines = 1;
  /** Records emitted so far (csv-parse's info.records). */
  records = 0;
  private quoting = false;
  private wasQuoting = false;
  private hasError = false;
  /** The last character was a CR or LF: csv-parse counts its line only when the next one comes. */
  private lastBreak = false;
  private field = '';
  private fieldBytes = 0;
  /** Where the field's characters not yet copied into `field` start in the text, or -1. */
  private runStart = -1;
  private cells: string[] = [];
  private recordUnits = 0;
  private recordEnded = false;

  constructor(private readonly options: MachineOptions) {}

  /** Between records: no field, cell or error pending. */
  get atRecordStart(): boolean {
    return !this.quoting && !this.wasQuoting && !this.hasError && this.cells.length === 0 && this.fieldBytes === 0;
  }

  /** Reads `text` from `from` to the end of one record (or an empty line), or as far as it can be told; returns where it stopped. */
  run(text: string, from: number, final: boolean): number {
    let i = from;
    while (i < text.length) {
      const next = this.step(text, i, final);
      if (next === NEED_MORE) break;
      i = next;
      if (this.recordEnded) {
        this.recordEnded = false;
        return i;
      }
    }
    this.flush(text, i);
    return i;
  }

  /** The end of the text: the last record, unless a quoted field is still open. */
  finish(end: number): void {
    if (this.quoting) this.skip(quoteNotClosed(this.lines - (this.lastBreak ? 1 : 0)));
    else if (this.wasQuoting || this.cells.length > 0 || this.fieldBytes > 0) this.endRecord(end);
  }

  /** Counts a record delimiter read by the fast path. */
  countLine(): void {
    this.lines++;
  }

  /** Emits a record read by the fast path. */
  emit(cells: string[], end: number): void {
    this.records++;
    this.options.onRecord(cells, end);
  }

  private step(text: string, i: number, final: boolean): number {
    const code = text.charCodeAt(i);
    if (!this.quoting && this.recordDelimiter === null && (code === CR || code === LF)) {
      if (code === CR && i + 1 === text.length && !final) return NEED_MORE;
      this.recordDelimiter = code === LF ? '\n' : text.charCodeAt(i + 1) === LF ? '\r\n' : '\r';
    }
    const next = code === this.options.quote ? this.quote(text, i, final) : this.quoting ? CONTENT : this.separator(text, i, code, final);
    return next === CONTENT ? this.append(i, code) : next;
  }

  private quote(text: string, i: number, final: boolean): number {
    if (!this.quoting) return this.openingQuote(text, i);
    if (i + 1 === text.length && !final) return NEED_MORE;
    const after = i + 1 < text.length ? text.charCodeAt(i + 1) : -1;
    if (after === this.options.quote) {
      this.flush(text, i); // a doubled quote: the first is dropped, the second is content
      return this.append(i + 1, after);
    }
    const ends = this.endsRecordAt(text, i + 1, after, final);
    if (ends === NEED_MORE) return NEED_MORE;
    if (after === -1 || after === this.options.delimiter || ends > 0) {
      this.flush(text, i);
      this.quoting = false;
      this.wasQuoting = true;
      this.lastBreak = false;
      return i + 1;
    }
    this.skip(invalidClosingQuote(after, this.lines));
    // As csvParseParser() has csv-parse do: leave the quoted field, so that only this record is lost.
    this.quoting = false;
    return CONTENT;
  }

  private openingQuote(text: string, i: number): number {
    if (this.fieldBytes !== 0) {
      this.flush(text, i);
      this.skip(invalidOpeningQuote(this.cells.length, this.lines, this.field));
      return CONTENT;
    }
    this.quoting = true;
    this.lastBreak = false;
    return i + 1;
  }

  /** The length of the record delimiter at `i` (0 if none); before one is known, any CR or LF is one. */
  private endsRecordAt(text: string, i: number, code: number, final: boolean): number {
    const delimiter = this.recordDelimiter;
    if (delimiter === null) return code === CR || code === LF ? 1 : 0;
    if (code !== delimiter.charCodeAt(0)) return 0;
    if (delimiter.length === 1) return 1;
    if (i + 1 === text.length && !final) return NEED_MORE;
    return text.charCodeAt(i + 1) === LF ? 2 : 0;
  }

  /** A record delimiter or a delimiter outside quotes. */
  private separator(text: string, i: number, code: number, final: boolean): number {
    const length = this.recordDelimiter === null ? 0 : this.endsRecordAt(text, i, code, final);
    if (length === NEED_MORE) return NEED_MORE;
    if (length > 0) {
      this.flush(text, i);
      this.lines++;
      this.lastBreak = true;
      const empty = !this.wasQuoting && this.cells.length === 0 && this.fieldBytes === 0;
      if (!empty) this.endRecord(i + length);
      else this.recordEnded = true;
      return i + length;
    }
    if (code !== this.options.delimiter) return CONTENT;
    this.flush(text, i);
    this.endField();
    this.lastBreak = false;
    return i + 1;
  }

  /** A character of the field, after csv-parse's size check (made before each byte is added). */
  private append(i: number, code: number): number {
    const bytes = utf8Bytes(code);
    if (bytes > 0 && this.recordUnits + this.fieldBytes + bytes - 1 > this.options.maxRecordBytes) {
      throw recordTooLarge(this.options.maxRecordBytes, this.lines);
    }
    if (this.runStart < 0) this.runStart = i;
    this.fieldBytes += bytes;
    this.lastBreak = code === CR || code === LF;
    if (this.lastBreak) this.lines++;
    return i + 1;
  }

  private flush(text: string, end: number): void {
    if (this.runStart < 0) return;
    this.field += text.slice(this.runStart, end);
    this.runStart = -1;
  }

  /** A record is rejected once, for its first fault: more stray quotes in it are not more rows. */
  private skip(message: string): void {
    if (this.hasError) return;
    this.hasError = true;
    this.options.onSkipped(this.records, message);
  }

  private endField(): void {
    this.cells.push(this.field);
    this.recordUnits += this.field.length;
    this.field = '';
    this.fieldBytes = 0;
    this.wasQuoting = false;
  }

  private endRecord(end: number): void {
    this.endField();
    if (this.hasError) this.hasError = false;
    else this.emit(this.cells, end);
    this.cells = [];
    this.recordUnits = 0;
    this.recordEnded = true;
  }
}
