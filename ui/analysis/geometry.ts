/**
 * The arithmetic of the bar and plane views: the order of direct logit attribution's bars, a bar
 * chart's value range, and points placed in a square about the origin. Pure, so tests import it.
 *
 * @module
 */

/** Labelled values, in the order they are drawn. */
export interface Bars {
  labels: string[];
  values: number[];
}

/**
 * The bars in model order (as given: embed, then each layer's heads and MLP) or sorted, the largest
 * value first, so the parts that push the target's logit up lead and those that push it down end.
 *
 * @example
 * ```ts
 * import { orderBars } from "./geometry.ts";
 * orderBars({ labels: ["embed", "L0H0", "L0H1"], values: [0.5, -1, 3] }, "sorted");
 * // { labels: ["L0H1", "embed", "L0H0"], values: [3, 0.5, -1] }
 * ```
 */
export function orderBars(bars: Bars, order: "model" | "sorted"): Bars {
  if (order === "model") return bars;
  const idx = bars.values.map((_, i) => i).sort((a, b) => bars.values[b]! - bars.values[a]!);
  return { labels: idx.map((i) => bars.labels[i]!), values: idx.map((i) => bars.values[i]!) };
}

/**
 * The value range a bar chart spans: always including 0, the bars' base.
 *
 * @example
 * ```ts
 * import { barDomain } from "./geometry.ts";
 * barDomain([2, 5]); // [0, 5]
 * barDomain([-1, 3]); // [-1, 3]
 * barDomain([]); // [0, 1]
 * ```
 */
export function barDomain(values: readonly number[]): [number, number] {
  const seen = values.filter((v) => Number.isFinite(v));
  const lo = Math.min(0, ...seen);
  const hi = Math.max(0, ...seen);
  return hi > lo ? [lo, hi] : [0, 1];
}

/**
 * Points `(xs[i], ys[i])` in a `size`-pixel square: the origin at the centre, one scale for both
 * axes (a circle stays round), the farthest point `pad` pixels inside the edge, y up.
 *
 * @example
 * ```ts
 * import { planePoints } from "./geometry.ts";
 * planePoints([1, 0, -2], [0, 2, 0], 100, 10); // [[70, 50], [50, 10], [10, 50]]
 * ```
 */
export function planePoints(
  xs: readonly number[],
  ys: readonly number[],
  size: number,
  pad: number,
): [number, number][] {
  const reach = Math.max(...xs.map(Math.abs), ...ys.map(Math.abs));
  const k = reach > 0 ? (size / 2 - pad) / reach : 0;
  return xs.map((x, i) => [size / 2 + x * k, size / 2 - (ys[i] ?? 0) * k]);
}
