/**
 * The f64 row kernels under `linalg.ts`: input checks and scaling, the Jacobi rotation both of
 * its decompositions apply, and the small vector loops they are built from. Matrices here are
 * arrays of row views into one `Float64Array`, so a rotation of two rows is a plain loop and
 * writes land in the result's storage. Internal: `mod.ts` does not re-export it.
 *
 * @module
 */

import type { Tensor } from "./tensor.ts";

/**
 * Throws on the first NaN or infinite entry of `t`, naming its index: one would spread through
 * every rotation and come out as NaN everywhere, or, in `eigh`, as a baffling asymmetry.
 *
 * @example
 * ```ts
 * import { assertFinite } from "./linalg_kernels.ts";
 * import { tensor } from "./tensor.ts";
 * assertFinite(tensor([1, 2], [1, 2]), "svd"); // returns
 * // with [1, NaN] it throws "svd: matrix has a non-finite entry NaN at [0, 1]"
 * ```
 */
export function assertFinite(t: Tensor, caller: string): void {
  let flat = t.data.findIndex((v) => !Number.isFinite(v));
  if (flat < 0) return;
  const value = t.data[flat];
  const index = t.shape.map(() => 0);
  for (let d = t.ndim - 1; d >= 0; d--) {
    index[d] = flat % t.shape[d]!;
    flat = Math.floor(flat / t.shape[d]!);
  }
  throw new Error(`${caller}: matrix has a non-finite entry ${value} at [${index.join(", ")}]`);
}

/**
 * A copy of `data` in f64 divided by a power of two near its largest magnitude, and that power.
 * Jacobi methods form squares and differences of entries, which overflow beyond about 1e154 and
 * underflow below about 1e-154; at unit scale neither happens. A power of two divides without
 * rounding, so well-scaled input gives the same bits as if unscaled. A zero matrix keeps scale 1.
 *
 * @example
 * ```ts
 * import { scaledCopy } from "./linalg_kernels.ts";
 * const { values, scale } = scaledCopy([3e200, -1e200]);
 * // scale is 2^665 and values about [1.96, -0.65]; values[i] * scale gives back data[i] exactly
 * ```
 */
export function scaledCopy(data: ArrayLike<number>): { values: Float64Array; scale: number } {
  let big = 0;
  for (let i = 0; i < data.length; i++) big = Math.max(big, Math.abs(data[i]!));
  // Clamped to the finite, nonzero powers of two: log2 of the largest double rounds up to 1024.
  const exponent = Math.min(1023, Math.max(-1074, Math.floor(Math.log2(big))));
  const scale = big === 0 ? 1 : 2 ** exponent;
  return { values: Float64Array.from(data, (v) => v / scale), scale };
}

/**
 * The Jacobi rotation of the symmetric 2×2 matrix `[[app, apq], [apq, aqq]]`, `apq ≠ 0`: cosine
 * `c`, sine `s` and tangent `tan` of the angle that zeroes `apq` in `JᵀAJ`. The tangent is the
 * smaller root of `t² + 2θt − 1 = 0`, `θ = (aqq − app) / 2apq`, in the form that cannot cancel;
 * keeping the angle within ±π/4 disturbs the already converged entries least.
 *
 * @example
 * ```ts
 * import { jacobiRotation } from "./linalg_kernels.ts";
 * const { c, s } = jacobiRotation(2, 2, 1); // c = s = √½: a 45° turn diagonalises [[2, 1], [1, 2]]
 * ```
 */
export function jacobiRotation(
  app: number,
  aqq: number,
  apq: number,
): { c: number; s: number; tan: number } {
  const theta = (aqq - app) / (2 * apq);
  const tan = Math.sign(theta || 1) / (Math.abs(theta) + Math.hypot(1, theta));
  const c = 1 / Math.sqrt(1 + tan * tan);
  return { c, s: tan * c, tan };
}

/**
 * Views of `count` consecutive rows of length `len` in `data` (writes go through).
 *
 * @example
 * ```ts
 * import { rowsOf } from "./linalg_kernels.ts";
 * const rows = rowsOf(new Float64Array([1, 2, 3, 4]), 2, 2);
 * rows[1]; // Float64Array [3, 4]
 * ```
 */
export function rowsOf(data: Float64Array, count: number, len: number): Float64Array[] {
  return Array.from({ length: count }, (_, i) => data.subarray(i * len, (i + 1) * len));
}

/**
 * The Givens rotation `x ← c·x − s·y, y ← s·x + c·y`, in place.
 *
 * @example
 * ```ts
 * import { rotate } from "./linalg_kernels.ts";
 * const [x, y] = [new Float64Array([1, 0]), new Float64Array([0, 1])];
 * rotate(x, y, 0, 1); // x = [0, -1], y = [1, 0]
 * ```
 */
export function rotate(x: Float64Array, y: Float64Array, c: number, s: number): void {
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    x[i] = c * a - s * b;
    y[i] = s * a + c * b;
  }
}

/**
 * The dot product of two vectors of equal length, summed in order.
 *
 * @example
 * ```ts
 * import { dot } from "./linalg_kernels.ts";
 * dot(new Float64Array([1, 2]), new Float64Array([3, 4])); // 11
 * ```
 */
export function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/**
 * The Euclidean norm.
 *
 * @example
 * ```ts
 * import { norm } from "./linalg_kernels.ts";
 * norm(new Float64Array([3, 4])); // 5
 * ```
 */
export function norm(x: Float64Array): number {
  return Math.sqrt(dot(x, x));
}

/**
 * Flips every entry's sign, in place.
 *
 * @example
 * ```ts
 * import { negate } from "./linalg_kernels.ts";
 * const x = new Float64Array([1, -2]);
 * negate(x); // x = [-1, 2]
 * ```
 */
export function negate(x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = -x[i]!;
}

/**
 * The sign that makes the vector's largest-magnitude entry positive. Among entries within 1e-9
 * of the largest the first decides, so rounding cannot flip the choice between tied entries.
 *
 * @example
 * ```ts
 * import { signOf } from "./linalg_kernels.ts";
 * signOf(new Float64Array([0.5, -0.9])); // -1
 * ```
 */
export function signOf(x: Float64Array): 1 | -1 {
  let big = 0;
  for (const v of x) big = Math.max(big, Math.abs(v));
  for (const v of x) if (Math.abs(v) >= big * (1 - 1e-9)) return v < 0 ? -1 : 1;
  return 1;
}
