/**
 * Order statistics for a sweep's seeds: the median and quartiles of steps-to-generalise, where a
 * member that never generalised counts as `Infinity` (later than any step), so a cell's median is
 * "never" exactly when at least half its members never got there; and the median and band of
 * overlaid curves, step by step.
 *
 * @module
 */

/**
 * The `q` quantile (0..1) of values, linear between order statistics (numpy's default); NaN for
 * none. `Infinity` sorts last and stays infinite wherever it is interpolated against.
 *
 * @example
 * ```ts
 * import { quantile } from "./stats.ts";
 * quantile([300, 100, 200], 0.5); // 200
 * quantile([100, 200, 300, 400], 0.25); // 175
 * quantile([200, 400, Infinity], 0.5); // 400
 * ```
 */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  if (lo === hi || s[lo] === s[hi]) return s[lo]!;
  if (s[hi] === Infinity) return Infinity; // between a step and never: never
  return s[lo]! + (at - lo) * (s[hi]! - s[lo]!);
}

/**
 * The median (quantile 0.5).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * median([100, 100, 400]); // 100
 * median([100, 200]); // 150
 * ```
 */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The spread of a cell's values: least, quartiles, most. */
export interface Spread {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/**
 * Least, quartiles, median and most of values (NaN for each with none).
 *
 * @example
 * ```ts
 * import { spread } from "./stats.ts";
 * spread([300, 100, 200]); // { min: 100, q1: 150, median: 200, q3: 250, max: 300 }
 * ```
 */
export function spread(values: readonly number[]): Spread {
  return {
    min: quantile(values, 0),
    q1: quantile(values, 0.25),
    median: quantile(values, 0.5),
    q3: quantile(values, 0.75),
    max: quantile(values, 1),
  };
}

/** A band over curves: at each step, the median and the range of the curves that have it. */
export interface Band {
  steps: number[];
  median: number[];
  min: number[];
  max: number[];
}

/**
 * The median, least and most of curves (each a list of `[step, value]`, value null where missing)
 * at every step any of them has, over the curves with a value there.
 *
 * @example
 * ```ts
 * import { band } from "./stats.ts";
 * band([[[0, 0.1], [100, 0.5]], [[0, 0.3], [100, 1]], [[0, 0.2]]]);
 * // { steps: [0, 100], median: [0.2, 0.75], min: [0.1, 0.5], max: [0.3, 1] }
 * ```
 */
export function band(curves: readonly (readonly (readonly [number, number | null])[])[]): Band {
  const at = new Map<number, number[]>();
  for (const curve of curves) {
    for (const [step, v] of curve) {
      if (v === null || !Number.isFinite(v)) continue;
      const list = at.get(step);
      if (list === undefined) at.set(step, [v]);
      else list.push(v);
    }
  }
  const steps = [...at.keys()].sort((a, b) => a - b);
  const out: Band = { steps, median: [], min: [], max: [] };
  for (const s of steps) {
    const v = at.get(s)!;
    out.median.push(median(v));
    out.min.push(Math.min(...v));
    out.max.push(Math.max(...v));
  }
  return out;
}
