/**
 * The f32 model's matrix products and linear maps, on the f32 WebAssembly SIMD kernel of
 * `engine/tensor/gemm_wasm.ts`: `y = x @ W + b` and its backward, with every operand a dense
 * row-major `Float32Array` (or a strided view of one).
 *
 * Shape letters: N rows (batch × pos), I inputs, O outputs.
 *
 * @module
 */

import { gemm } from "../../tensor/gemm_wasm.ts";

/** One operand of `mm`: an array, its element offset and its row step (default: dense). */
export interface Operand {
  data: Float32Array;
  off?: number;
  ld?: number;
  /** Read the stored matrix transposed (stored `[cols, rows]` with row step `ld`). */
  t?: boolean;
}

/**
 * `C[m, n] (+)= op(A)[m, k] @ op(B)[k, n]` in f32, where `op` transposes an operand marked `t`.
 *
 * @example
 * ```ts
 * import { mm } from "./linear.ts";
 * const C = new Float32Array(4);
 * mm({ data: C }, { data: new Float32Array([1, 2, 3, 4]) }, { data: new Float32Array([1, 0, 0, 1]) }, {
 *   m: 2,
 *   k: 2,
 *   n: 2,
 * });
 * C; // Float32Array [1, 2, 3, 4]
 * ```
 */
export function mm(
  C: Operand,
  A: Operand,
  B: Operand,
  shape: { m: number; k: number; n: number; accumulate?: boolean },
): void {
  const { m, k, n } = shape;
  const lda = A.ld ?? (A.t ? m : k);
  const ldb = B.ld ?? (B.t ? k : n);
  gemm({
    A: A.data,
    offA: A.off ?? 0,
    strideA: A.t ? [1, lda] : [lda, 1],
    B: B.data,
    offB: B.off ?? 0,
    strideB: B.t ? [1, ldb] : [ldb, 1],
    C: C.data,
    offC: C.off ?? 0,
    ldc: C.ld ?? n,
    m,
    k,
    n,
    accumulate: shape.accumulate ?? false,
  }, { precision: "f32" });
}

/**
 * `y = x @ W + b`: `x [N, I]`, `W [I, O]`, `b [O]`, returns `y [N, O]`.
 *
 * @example
 * ```ts
 * import { linearForward } from "./linear.ts";
 * const y = linearForward(new Float32Array([1, 2]), new Float32Array([1, 1]), new Float32Array([5]), 2);
 * y; // Float32Array [8] (1·1 + 2·1 + 5), one row
 * ```
 */
export function linearForward(
  x: Float32Array,
  W: Float32Array,
  b: Float32Array,
  inputs: number,
): Float32Array {
  const O = b.length;
  const N = x.length / inputs;
  if (N === 1) return rowTimes(x, W, b);
  const y = new Float32Array(N * O);
  for (let r = 0; r < N; r++) y.set(b, r * O);
  mm({ data: y }, { data: x }, { data: W }, { m: N, k: inputs, n: O, accumulate: true });
  return y;
}

/**
 * `b + x @ W` for one row `x [I]` (`W [I, O]`): W swept once, row by row, in memory order. The
 * kernel of `mm` first packs W into panels, which for one row costs as much as the product: a
 * sampler's step over GPT-2's 154 MB `W_U` took seconds that way.
 */
function rowTimes(x: Float32Array, W: Float32Array, b: Float32Array): Float32Array {
  const O = b.length;
  const y = Float32Array.from(b);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const row = i * O;
    for (let o = 0; o < O; o++) y[o]! += xi * W[row + o]!;
  }
  return y;
}

/**
 * The backward of `linearForward`: `dW += xᵀ @ dy` `[I, O]`, `db += Σ_rows dy` `[O]`, and
 * returns `dx = dy @ Wᵀ` `[N, I]`.
 *
 * @example
 * ```ts
 * import { linearBackward } from "./linear.ts";
 * const dW = new Float32Array(2), db = new Float32Array(1);
 * const dx = linearBackward(
 *   { x: new Float32Array([1, 2]), W: new Float32Array([3, 4]), dy: new Float32Array([1]) },
 *   { dW, db },
 * );
 * dx; // Float32Array [3, 4]; dW is [1, 2], db [1]
 * ```
 */
export function linearBackward(
  { x, W, dy }: { x: Float32Array; W: Float32Array; dy: Float32Array },
  { dW, db }: { dW: Float32Array; db: Float32Array },
): Float32Array {
  const O = db.length;
  const I = W.length / O;
  const N = dy.length / O;
  mm({ data: dW }, { data: x, t: true, ld: I }, { data: dy }, {
    m: I,
    k: N,
    n: O,
    accumulate: true,
  });
  columnSums(dy, db);
  return linearInputGrad(W, dy, O);
}

/**
 * `dx = dy @ Wᵀ` `[N, I]` for `W [I, O]` and `dy [N, O]`: `linearBackward`'s input gradient alone,
 * for a backward that wants the activations' gradients and not the weights' (`runWithGrads`).
 *
 * @example
 * ```ts
 * import { linearInputGrad } from "./linear.ts";
 * linearInputGrad(new Float32Array([3, 4]), new Float32Array([1]), 1); // Float32Array [3, 4]
 * ```
 */
export function linearInputGrad(W: Float32Array, dy: Float32Array, O: number): Float32Array {
  const I = W.length / O;
  const N = dy.length / O;
  const dx = new Float32Array(N * I);
  mm({ data: dx }, { data: dy }, { data: W, t: true, ld: O }, { m: N, k: O, n: I });
  return dx;
}

/**
 * `out[o] += Σ_r y[r, o]` for `y [N, O]` and `out [O]` (a bias gradient), summed in f64.
 *
 * @example
 * ```ts
 * import { columnSums } from "./linear.ts";
 * const out = new Float32Array(2);
 * columnSums(new Float32Array([1, 2, 3, 4]), out);
 * out; // Float32Array [4, 6]
 * ```
 */
export function columnSums(y: Float32Array, out: Float32Array): void {
  const O = out.length;
  const sums = Float64Array.from(out);
  for (let r = 0; r < y.length; r += O) for (let o = 0; o < O; o++) sums[o] = sums[o]! + y[r + o]!;
  out.set(sums);
}
