/**
 * Softmax and its relatives along one axis, computed stably (the maximum is subtracted first), in
 * double precision and rounded once to the input's float dtype.
 *
 * @module
 */

import { allocate, floatOf } from "./dtype.ts";
import { normalizeAxis, sizeOf, Tensor } from "./tensor.ts";
import { permute } from "./view.ts";

/**
 * `exp(x) / sum(exp(x))` along `axis`.
 *
 * @example
 * ```ts
 * import { softmax } from "./softmax.ts";
 * import { tensor } from "./tensor.ts";
 * softmax(tensor([0, Math.log(3)])).toArray(); // Float64Array [0.25, 0.75]
 * ```
 */
export function softmax(t: Tensor, axis = -1): Tensor {
  return alongAxis(t, axis, (v, out) => {
    const total = expShifted(v, out).total;
    for (let i = 0; i < v.length; i++) out[i] = out[i]! / total;
  });
}

/**
 * `x - logSumExp(x)` along `axis`: log-probabilities from logits.
 *
 * @example
 * ```ts
 * import { logSoftmax } from "./softmax.ts";
 * import { tensor } from "./tensor.ts";
 * logSoftmax(tensor([0, 0])).toArray(); // Float64Array [-0.693..., -0.693...]
 * ```
 */
export function logSoftmax(t: Tensor, axis = -1): Tensor {
  const scratch = new Float64Array(t.shape[normalizeAxis(axis, t.ndim)]!);
  return alongAxis(t, axis, (v, out) => {
    const lse = logSumExpOf(v, scratch);
    for (let i = 0; i < v.length; i++) out[i] = v[i]! - lse;
  });
}

/**
 * `log(sum(exp(x)))` along `axis`, without overflow.
 *
 * @example
 * ```ts
 * import { logSumExp } from "./softmax.ts";
 * import { tensor } from "./tensor.ts";
 * logSumExp(tensor([1000, 1000])).toArray(); // Float64Array [1000.693...]
 * logSumExp(tensor([1, 2, 3, 4], [2, 2]), 0, { keepdims: true }).shape; // [1, 2]
 * ```
 */
export function logSumExp(t: Tensor, axis = -1, options: { keepdims?: boolean } = {}): Tensor {
  const a = normalizeAxis(axis, t.ndim);
  const scratch = new Float64Array(t.shape[a]!);
  const withOne = alongAxis(t, a, (v, out) => {
    out[0] = logSumExpOf(v, scratch);
  }, 1);
  return options.keepdims ? withOne : withOne.reshape(t.shape.filter((_, i) => i !== a));
}

/**
 * Writes `exp(v - max(v))` into `out` and returns the max and the total. Subtracting the max keeps
 * every exponent at most 0, so nothing overflows, and the largest entry is exactly 1.
 */
function expShifted(v: Float64Array, out: Float64Array): { max: number; total: number } {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i]! > max) max = v[i]!;
  // All -Infinity (or +Infinity present): exp of the shifted values is undefined; keep NaN-free.
  const shift = Number.isFinite(max) ? max : 0;
  let total = 0;
  for (let i = 0; i < v.length; i++) {
    out[i] = Math.exp(v[i]! - shift);
    total += out[i]!;
  }
  return { max: shift, total };
}

/** `log(sum(exp(v)))` of one row, using `scratch` (as long as `v`) for the exponentials. */
function logSumExpOf(v: Float64Array, scratch: Float64Array): number {
  const { max, total } = expShifted(v, scratch);
  return max + Math.log(total);
}

/**
 * Runs `fn` on each row along `axis` (moved last and made contiguous), writing `width` outputs per
 * row (by default as many as the row has), then moves the axis back.
 */
function alongAxis(
  t: Tensor,
  axis: number,
  fn: (row: Float64Array, out: Float64Array) => void,
  width?: number,
): Tensor {
  const a = normalizeAxis(axis, t.ndim);
  const order = [...t.shape.keys()].filter((d) => d !== a).concat(a);
  const moved = permute(t, order);
  const n = t.shape[a]!;
  const w = width ?? n;
  const rows = sizeOf(moved.shape.slice(0, -1));
  const result = allocate(floatOf(t.dtype), rows * w);
  const row = new Float64Array(n);
  const out = new Float64Array(w);
  for (let r = 0; r < rows; r++) {
    row.set(moved.data.subarray(r * n, (r + 1) * n));
    fn(row, out);
    result.set(out, r * w);
  }
  const movedShape = [...moved.shape.slice(0, -1), w];
  const back = order.map((_, i) => order.indexOf(i));
  return permute(new Tensor(result, movedShape), back);
}
