/** mulberry32: a small seeded generator, so that a seed names the same corpus on every run. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small CSV file made to trip a parser, with the options to read it with. */
export interface CorpusFile {
  bytes: Buffer;
  options: { delimiter: string; quote: string; bom: boolean; maxRecordBytes: number };
}

const BOM = '\ufeff';
/** Text pieces: ASCII, 2-, 3- and 4-byte characters, white space. */
const CONTENT = ['a', 'bc', 'xyz', '1', ' ', 'é', 'ß', '€', '☃', '中', '😀', '\t', BOM];
const LINE_ENDS = ['\n', '\r\n', '\r'];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

function plainText(random: () => number): string {
  let text = '';
  for (let n = Math.floor(random() * 4); n > 0; n--) text += pick(random, CONTENT);
  return text;
}

/** A cell: plain, quoted (with delimiters, line ends and doubled quotes inside), or broken (a stray quote, text after a closing quote). */
function cell(random: () => number, delimiter: string, quote: string): string {
  const roll = random();
  if (roll < 0.45) return plainText(random);
  const inner = () => [plainText(random), delimiter, quote + quote, pick(random, LINE_ENDS), ''][Math.floor(random() * 5)] + plainText(random);
  if (roll < 0.85) return `${quote}${inner()}${inner()}${quote}`;
  if (roll < 0.92) return `${plainText(random)}${quote}${plainText(random)}`;
  return `${quote}${inner()}${quote}${plainText(random) || 'x'}`;
}

/** A file of rows (ragged, some empty, mixed line ends), or once in a while a soup of separators and quotes. */
function content(random: () => number, delimiter: string, quote: string): string {
  const pieces = [delimiter, quote, '\n', '\r', '\r\n', 'a', 'é', '😀', quote + quote];
  if (random() < 0.15) return Array.from({ length: Math.floor(random() * 30) }, () => pick(random, pieces)).join('');
  const usual = pick(random, LINE_ENDS);
  const rows: string[] = [];
  // Mostly a few rows; now and then enough for lines read whole (the fast path) between the odd ones.
  for (let r = Math.floor(random() * (random() < 0.9 ? 7 : 40)); r > 0; r--) {
    const cells = random() < 0.1 ? [] : Array.from({ length: 1 + Math.floor(random() * 4) }, () => cell(random, delimiter, quote));
    rows.push(cells.join(delimiter) + (random() < 0.8 ? usual : pick(random, LINE_ENDS)));
  }
  const text = rows.join('');
  return random() < 0.3 ? text.replace(/\r?\n$|\r$/, '') : text;
}

/** The `index`th file of the corpus named by `seed`. */
export function corpusFile(seed: number, index: number): CorpusFile {
  const random = seededRandom(seed * 1_000_003 + index);
  const [delimiter, quote] = random() < 0.8 ? [',', '"'] : pick(random, [[';', '"'], ['\t', "'"], ['|', '"']]);
  const text = (random() < 0.15 ? BOM : '') + content(random, delimiter, quote);
  const maxRecordBytes = random() < 0.25 ? 2 + Math.floor(random() * 30) : 1024 * 1024;
  // Without `bom` the input does not start the file (a resumed read): a byte order mark is content.
  return { bytes: Buffer.from(text), options: { delimiter, quote, bom: random() < 0.8, maxRecordBytes } };
}
