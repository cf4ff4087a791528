import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { fixedLengthPattern } from '../../src/ingest/fixed-pattern';
import { compileUserPattern } from '../../src/ingest/pattern';
import { seededRandom } from '../helpers/csv-corpus';

const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
/** Atoms of the fixed-length subset with the characters each matches. */
const ATOMS: Array<[string, string[]]> = [
  ['a', ['a']], ['Z', ['Z']], ['7', ['7']], ['-', ['-']], [' ', [' ']], ['@', ['@']], ['/', ['/']], ['#', ['#']],
  [String.raw`\.`, ['.']], [String.raw`\-`, ['-']], [String.raw`\\`, ['\\']], [String.raw`\+`, ['+']], [String.raw`\$`, ['$']], [String.raw`\(`, ['(']],
  [String.raw`\d`, [...'0123456789']], [String.raw`\w`, ASCII.filter((c) => /\w/.test(c))],
  ['[0-9a-f]', [...'0123456789abcdef']], ['[A-Z]', ASCII.filter((c) => c >= 'A' && c <= 'Z')], ['[A-z]', ASCII.filter((c) => c >= 'A' && c <= 'z')],
  [String.raw`[a-c.\-_]`, [...'abc.-_']], [String.raw`[\d@+]`, [...'0123456789@+']], [String.raw`[\]x]`, [']', 'x']],
  ...[...'!"%&\',:;<=>`~_'].map((c): [string, string[]] => [c, [c]]),
  ...[...'/*?)[]{}|^'].map((c): [string, string[]] => [`\\${c}`, [c]]),
  [String.raw`[ ,/:\w]`, [' ', ',', '/', ':', ...ASCII.filter((c) => /\w/.test(c))]],
];
const ODD = ['é', '😀', '\ud800', '\n', '\r', '\t', 'Ａ', 'ß', ''];

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)];
}

/** A random pattern of the subset and texts around it: matches, near misses, longer and odd ones. */
function generated(next: () => number): { source: string; values: string[] } {
  const parts = Array.from({ length: Math.floor(next() * 6) }, () => {
    const [atom, chars] = pick(next, ATOMS);
    const count = next() < 0.3 ? 1 + Math.floor(next() * 4) : 1;
    return { text: count > 1 || next() < 0.2 ? `${atom}{${count}}` : atom, chars, count };
  });
  const start = next() < 0.7 ? '^' : '';
  const end = next() < 0.7 ? '$' : '';
  const source = `${start}${parts.map((part) => part.text).join('')}${end}`;
  const match = () => parts.map((part) => Array.from({ length: part.count }, () => pick(next, part.chars)).join('')).join('');
  const values = Array.from({ length: 12 }, () => {
    const text = match();
    const at = Math.floor(next() * (text.length + 1));
    const noise = next() < 0.5 ? pick(next, ODD) : pick(next, ASCII);
    return [text, text.slice(0, at) + noise + text.slice(at + 1), noise + text, text + noise, text.slice(1)][Math.floor(next() * 5)];
  });
  return { source, values };
}

describe('fixed-length patterns', () => {
  it('answer as RE2 does, for generated patterns and texts', () => {
    const next = seededRandom(17);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const { source, values } = generated(next);
      const fast = fixedLengthPattern(source);
      expect(fast, source).not.toBeNull();
      const re2 = RE2JS.compile(RE2JS.translateRegExp(source));
      for (const value of values) {
        expect({ source, value, matches: fast!.test(value) }).toEqual({ source, value, matches: re2.test(value) });
        compared++;
      }
    }
    expect(compared).toBe(36_000);
  });

  it('take the uuid pattern, and leave variable repetitions, dots, spaces, classes of other kinds and non-ASCII to RE2', () => {
    expect(fixedLengthPattern('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')).toBeInstanceOf(RegExp);
    for (const source of ['a*', 'a+b', 'a?', '\\d{2,3}', 'a|b', '(ab)', '.', '\\s', '\\b', '[^a]', '[[:alpha:]]', 'é', '(?i)a', '\\u0041', 'a{', '[a-]', '^a$b', '[ab]*a[ab]{990}[!?]']) {
      expect(fixedLengthPattern(source), source).toBeNull();
    }
  });

  it('are still refused as RE2 refuses them', () => {
    expect(() => compileUserPattern('[z-a]')).toThrow();
    expect(() => compileUserPattern('a{1001}')).toThrow();
  });
});
