/**
 * Where the bar charts and heatmaps of the analysis views put their ticks: which of `n` cells or
 * bars get a label when each is `px` pixels wide (every one when they fit, else every 2nd, 5th,
 * 10th, ..., and always the last, so a p × p grid reads 0 … p−1), and round values for a linear
 * value axis. Pure, so tests import it.
 *
 * @module
 */

/** 1, 2, 5 × 10^k from 1 up: the strides ticks step by. */
function* niceSteps(): Generator<number> {
  for (let k = 1;; k *= 10) {
    for (const m of [1, 2, 5]) yield m * k;
  }
}

/**
 * The indices of `n` cells, each `px` wide, that get a label at least `gap` pixels from the next:
 * the multiples of the smallest stride of 1, 2, 5, 10, 20, ... that leaves that room, and `n − 1`
 * (the last multiple before it is dropped when the two would crowd).
 *
 * @example
 * ```ts
 * import { indexTicks } from "./ticks.ts";
 * indexTicks(5, 30, 20); // [0, 1, 2, 3, 4]
 * indexTicks(113, 2, 24); // [0, 20, 40, 60, 80, 100, 112]
 * indexTicks(23, 4, 24); // [0, 10, 22]
 * ```
 */
export function indexTicks(n: number, px: number, gap: number): number[] {
  if (n <= 0) return [];
  let stride = 1;
  for (const s of niceSteps()) {
    stride = s;
    if (s * px >= gap || s >= n) break;
  }
  const ticks: number[] = [];
  for (let i = 0; i < n; i += stride) ticks.push(i);
  const last = n - 1;
  if (ticks.at(-1) !== last) {
    // The last index always shows; the tick before it goes when the two labels would overlap.
    if (ticks.length > 1 && (last - ticks.at(-1)!) * px < gap) ticks.pop();
    ticks.push(last);
  }
  return ticks;
}

/**
 * Round tick values within `lo..hi` for a linear axis: steps of 1, 2 or 5 × 10^k, the smallest
 * that gives at most `count` ticks (at least 2).
 *
 * @example
 * ```ts
 * import { valueTicks } from "./ticks.ts";
 * valueTicks(0, 1, 5); // [0, 0.5, 1]
 * valueTicks(-1.3, 3.7, 6); // [-1, 0, 1, 2, 3]
 * valueTicks(0, 37, 5); // [0, 10, 20, 30]
 * ```
 */
export function valueTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const most = Math.max(count, 2); // two ticks always fit: the strides grow until they do
  const base = 10 ** Math.floor(Math.log10((hi - lo) / most));
  for (const m of niceSteps()) {
    const step = m * base;
    const first = Math.ceil(lo / step - 1e-9);
    const last = Math.floor(hi / step + 1e-9);
    if (last - first + 1 <= most) {
      // Multiplied, not accumulated, and rounded to the step's digits: 0.1 + 0.2 stays 0.3.
      const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
      return Array.from(
        { length: last - first + 1 },
        (_, i) => Number(((first + i) * step).toFixed(digits)),
      );
    }
  }
  return [lo, hi]; // unreachable: the strides grow without bound
}
