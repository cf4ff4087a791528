import { InvalidArgumentError } from 'commander';

/** An option's parser for whole numbers from `min` on: commander reports a bad value as a usage error. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`a whole number, ${min} or more`);
    return n;
  };
}
