/**
 * The costliest kind of pattern a job accepts. Patterns are matched in linear time (RE2), but the
 * cost per character grows with the compiled program: this one is near the 1,000-instruction limit
 * and defeats the engine's DFA (every `a` may start a match 990 characters long), so a long cell of
 * random a/b costs the worker's thread seconds in one uninterrupted call. Tests that need a busy,
 * unresponsive worker use it.
 */
export const SLOW_PATTERN = '[ab]*a[ab]{990}[!?]';

/**
 * A cell of `length` pseudo-random a's and b's, the same for the same seed, that SLOW_PATTERN must
 * scan to the end to refuse. Cells repeated cost little after the first (the engine caches DFA
 * states), so rows meant to be slow each need their own seed.
 */
export function slowCell(length: number, seed = 12345): string {
  let cell = '';
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    cell += (seed >> 16) & 1 ? 'a' : 'b';
  }
  return cell;
}

/** A cell SLOW_PATTERN holds a thread on for many seconds (about 15 on a loaded 2-core machine); it fits the default 1 MiB record. */
export const HANGING_CELL = slowCell(1_000_000);
