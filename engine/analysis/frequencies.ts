/**
 * Which rows of `fourierBasis(p)` belong to which frequency: the bookkeeping the Fourier measures
 * share. Frequencies run 0..⌊p/2⌋: 0 is the constant row, k ≥ 1 owns `cos k` (row 2k − 1) and
 * `sin k` (row 2k), except that for even p the frequency p/2 has only its cosine (its sine is zero
 * everywhere), as `fourierBasis` builds it.
 *
 * @module
 */

/**
 * The number of frequencies over `Z_p`, the constant included: `⌊p/2⌋ + 1` (`(p − 1)/2 + 1` for
 * odd p).
 *
 * @example
 * ```ts
 * import { frequencyCount } from "./frequencies.ts";
 * frequencyCount(113); // 57
 * frequencyCount(8); // 5
 * ```
 */
export function frequencyCount(p: number): number {
  return Math.floor(p / 2) + 1;
}

/**
 * The rows of `fourierBasis(p)` of frequency `k`: `[0]` for the constant, `[2k − 1, 2k]` (cos,
 * sin) otherwise, `[p − 1]` for k = p/2 with even p.
 *
 * @example
 * ```ts
 * import { frequencyRows } from "./frequencies.ts";
 * frequencyRows(7, 0); // [0]
 * frequencyRows(7, 3); // [5, 6]
 * frequencyRows(8, 4); // [7]
 * ```
 */
export function frequencyRows(p: number, k: number): number[] {
  if (!Number.isInteger(k) || k < 0 || k > Math.floor(p / 2)) {
    throw new RangeError(`frequencyRows: frequency ${k} is not in [0, ${Math.floor(p / 2)}]`);
  }
  if (k === 0) return [0];
  return 2 * k < p ? [2 * k - 1, 2 * k] : [2 * k - 1];
}
