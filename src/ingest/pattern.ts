import { RE2JS } from 're2js';
import { fixedLengthPattern } from './fixed-pattern';

/**
 * A linear-time engine's cost per value is its length times the compiled program's size, which
 * counted repetitions inflate (`(?:[a-z]?){1000}` is 2,000 instructions from 16 characters): a
 * bound on the program bounds how long one value can hold a thread. A strict email pattern with
 * length limits (`{1,64}@…{1,255}`) compiles to about 700.
 */
export const MAX_PATTERN_INSTRUCTIONS = 1000;

/** A user's regular expression, matched in time linear in the value (RE2: no backtracking). */
export interface UserPattern {
  test(value: string): boolean;
}

/**
 * Compiles a user's pattern: RE2 syntax, plus JavaScript's `\uXXXX`, `\u{…}` and `\cX` escapes, so
 * that patterns written for the RegExp engine used before keep working. Unanchored, by code point.
 * Throws, with a message fit for the user, what RE2 cannot run or what is too large.
 */
export function compileUserPattern(source: string): UserPattern {
  const compiled = RE2JS.compile(RE2JS.translateRegExp(source));
  if (compiled.programSize() > MAX_PATTERN_INSTRUCTIONS) {
    throw new Error(`the pattern compiles to ${compiled.programSize()} instructions, at most ${MAX_PATTERN_INSTRUCTIONS} are allowed (large counted repetitions such as {500} cost the most)`);
  }
  return fixedLengthPattern(source) ?? compiled;
}
