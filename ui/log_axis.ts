/**
 * Ticks and labels of the loss chart's log axis. uPlot's own log ticks put a grid line at every
 * 1..9 × 10^k and label small values with fixed decimals (1e-6 shows as "0"); a grokking run's
 * loss spans eight decades, so this keeps whole decades (every second or third when there are
 * many) and writes small and large values with an exponent.
 *
 * @module
 */

/**
 * Tick values between `min` and `max` (both positive): powers of ten (every second or third
 * when there are many), or 1, 2, 5 × 10^k within two decades, or every digit in a narrow range.
 *
 * @example
 * ```ts
 * import { logTicks } from "./log_axis.ts";
 * logTicks(1e-6, 100); // [1e-6, 1e-4, 0.01, 1, 100]
 * logTicks(1, 10); // [1, 2, 5, 10]
 * ```
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) return [];
  // The small slack keeps a bound that is a power of ten (log10 a hair off an integer) a tick.
  const lo = Math.floor(Math.log10(min) + 1e-9);
  const hi = Math.ceil(Math.log10(max) - 1e-9);
  const inside = (v: number) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const decades = (multipliers: number[], stride: number) => {
    const out: number[] = [];
    for (let k = lo; k <= hi; k++) {
      if (k % stride === 0) { for (const m of multipliers) out.push(Number(`${m}e${k}`)); }
    }
    return out.filter(inside);
  };
  if (hi - lo > 2) return decades([1], Math.ceil((hi - lo) / 6));
  // Within a decade or two: 1, 2, 5; a narrow range gets every digit, or its two ends.
  for (const multipliers of [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks = decades(multipliers, 1);
    if (ticks.length >= 2) return ticks;
  }
  return [min, max];
}

/**
 * A tick's label: plain from 0.001 to 10,000, else with an exponent.
 *
 * @example
 * ```ts
 * import { formatTick } from "./log_axis.ts";
 * formatTick(0.01); // "0.01"
 * formatTick(1e-6); // "1e-6"
 * ```
 */
export function formatTick(value: number): string {
  const rounded = Number(value.toPrecision(3)); // first, so 9999 is 1e4 like 10000
  const a = Math.abs(rounded);
  if (a === 0 || (a >= 1e-3 && a < 1e4)) return String(rounded);
  return rounded.toExponential(0).replace("e+", "e");
}
