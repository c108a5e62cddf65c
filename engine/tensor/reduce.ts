/**
 * Reductions over one or more axes (all of them when none are given). Sums accumulate in double
 * precision whatever the dtype, so an f32 sum is the f32 rounding of the exact-ish f64 sum; i32
 * sums and products wrap modulo 2³² as i32 arithmetic does (numpy would widen to int64; mechlab has
 * no 64-bit integers). `max`, `min`, `argmax` and `argmin` of an empty axis are errors, as numpy's.
 *
 * @module
 */

import { allocate, type DType, floatOf } from "./dtype.ts";
import { normalizeAxis, sizeOf, Tensor } from "./tensor.ts";
import { permute } from "./view.ts";

/** Which axes to reduce: one, several, or (left out) all. */
export type Axes = number | readonly number[] | undefined;

/** Options of every reduction. */
export interface ReduceOptions {
  /** Keep each reduced dimension with size 1, so the result broadcasts against the input. */
  keepdims?: boolean;
}

/**
 * Reduces `t` over `axes` with `fn`, which gets each group of values (contiguous, in row-major
 * order of the reduced axes) and returns one number. The building block of every reduction here.
 *
 * @example
 * ```ts
 * import { reduceAxes } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * const t = tensor([1, 2, 3, 4], [2, 2]);
 * reduceAxes(t, 1, (v) => v[0]! * 10 + v[1]!).toArray(); // Float64Array [12, 34]
 * ```
 */
export function reduceAxes(
  t: Tensor,
  axes: Axes,
  fn: (values: ArrayLike<number>) => number,
  options: ReduceOptions & { dtype?: DType } = {},
): Tensor {
  const reduced = normalizeAxes(axes, t.ndim);
  const kept = [...t.shape.keys()].filter((d) => !reduced.includes(d));
  const moved = permute(t, [...kept, ...reduced]);
  const inner = sizeOf(reduced.map((d) => t.shape[d]!));
  const outer = sizeOf(kept.map((d) => t.shape[d]!));
  const out = allocate(options.dtype ?? t.dtype, outer);
  for (let o = 0; o < outer; o++) out[o] = fn(moved.data.subarray(o * inner, (o + 1) * inner));
  const shape = options.keepdims
    ? t.shape.map((d, i) => (reduced.includes(i) ? 1 : d))
    : kept.map((d) => t.shape[d]!);
  return new Tensor(out, shape);
}

/**
 * The sum over `axes`.
 *
 * @example
 * ```ts
 * import { sum } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * sum(t).toArray(); // Float64Array [21]
 * sum(t, 0).toArray(); // Float64Array [5, 7, 9]
 * sum(t, 1, { keepdims: true }).shape; // [2, 1]
 * ```
 */
export function sum(t: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAxes(t, axes, sumOf, options);
}

/**
 * The mean over `axes` (f64 for integer input).
 *
 * @example
 * ```ts
 * import { mean } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * mean(tensor([1, 2, 3, 4], [2, 2]), 1).toArray(); // Float64Array [1.5, 3.5]
 * ```
 */
export function mean(t: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAxes(t, axes, (v) => sumOf(v) / v.length, { ...options, dtype: floatOf(t.dtype) });
}

/**
 * The product over `axes`.
 *
 * @example
 * ```ts
 * import { prod } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * prod(tensor([1, 2, 3, 4], [2, 2]), 0).toArray(); // Float64Array [3, 8]
 * ```
 */
export function prod(t: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  const times = t.dtype === "i32" ? Math.imul : (x: number, y: number) => x * y;
  return reduceAxes(t, axes, (v) => {
    let p = 1;
    for (let i = 0; i < v.length; i++) p = times(p, v[i]!);
    return p;
  }, options);
}

/**
 * The maximum over `axes`.
 *
 * @example
 * ```ts
 * import { max } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * max(tensor([1, 5, 3, 4], [2, 2]), 1).toArray(); // Float64Array [5, 4]
 * ```
 */
export function max(t: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAxes(t, axes, (v) => v[argBest(v, 1, "max")]!, options);
}

/**
 * The minimum over `axes`.
 *
 * @example
 * ```ts
 * import { min } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * min(tensor([1, 5, 3, 4], [2, 2]), 1).toArray(); // Float64Array [1, 3]
 * ```
 */
export function min(t: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  return reduceAxes(t, axes, (v) => v[argBest(v, -1, "min")]!, options);
}

/**
 * The index of the largest value along one axis (the first, on ties), as i32.
 *
 * @example
 * ```ts
 * import { argmax } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * argmax(tensor([1, 5, 3, 4], [2, 2]), -1).toArray(); // Int32Array [1, 1]
 * ```
 */
export function argmax(t: Tensor, axis = -1, options: ReduceOptions = {}): Tensor {
  return reduceAxes(t, axis, (v) => argBest(v, 1, "argmax"), { ...options, dtype: "i32" });
}

/**
 * The index of the smallest value along one axis (the first, on ties), as i32.
 *
 * @example
 * ```ts
 * import { argmin } from "./reduce.ts";
 * import { tensor } from "./tensor.ts";
 * argmin(tensor([1, 5, 3, 4], [2, 2]), -1).toArray(); // Int32Array [0, 0]
 * ```
 */
export function argmin(t: Tensor, axis = -1, options: ReduceOptions = {}): Tensor {
  return reduceAxes(t, axis, (v) => argBest(v, -1, "argmin"), { ...options, dtype: "i32" });
}

/**
 * The axes a reduction names, normalised, sorted and checked for repeats.
 *
 * @example
 * ```ts
 * import { normalizeAxes } from "./reduce.ts";
 * normalizeAxes([-1, 0], 3); // [0, 2]
 * normalizeAxes(undefined, 2); // [0, 1]
 * ```
 */
export function normalizeAxes(axes: Axes, ndim: number): number[] {
  if (axes === undefined) return [...Array(ndim).keys()];
  const list = (typeof axes === "number" ? [axes] : axes).map((a) => normalizeAxis(a, ndim));
  if (new Set(list).size !== list.length) throw new Error(`repeated axis in [${axes}]`);
  return list.sort((a, b) => a - b);
}

function sumOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
}

/** The index of the largest (`direction` 1) or smallest (-1) value; NaN wins, as in numpy. */
function argBest(v: ArrayLike<number>, direction: 1 | -1, caller: string): number {
  if (v.length === 0) throw new Error(`${caller}: cannot reduce over an empty axis`);
  let best = 0;
  for (let i = 1; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isNaN(x)) return i;
    if ((x - v[best]!) * direction > 0) best = i;
  }
  return best;
}
