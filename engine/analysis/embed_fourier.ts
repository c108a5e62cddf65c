/**
 * The embedding of the numbers in the Fourier basis (Nanda et al. 2023, §4.1, Fig. "norm of the
 * Fourier components of the embedding"): a model that grokked modular addition embeds each token
 * x as a few waves `cos(w_k x)`, `sin(w_k x)`, so `W_E`'s rows over 0..p-1 are sparse in
 * frequency, and each key frequency lays the tokens out on a circle.
 *
 * Shape letters: p the modulus, D d_model.
 *
 * @module
 */

import { fourier1d, Tensor } from "../tensor/mod.ts";
import { frequencyCount, frequencyRows } from "./frequencies.ts";

/**
 * `[(p−1)/2 + 1]` (odd p; `⌊p/2⌋ + 1` in general): the norm of `W_E[:p]` (the rows of tokens
 * 0..p-1, the `=` row left out as the paper's `W_E[:, :-1]`) in the Fourier basis per frequency:
 * `F · W_E[:p]` is `[p, D]` and frequency k's entry is the Frobenius norm of its cos and sin rows
 * together (entry 0: the constant row). The paper's notebook plots `(fourier_basis @ W_E).norm(dim
 * = -1)` per basis row; here cos k and sin k are joined as `sqrt(‖cos‖² + ‖sin‖²)`, so the squares
 * of the entries sum to `‖W_E[:p]‖²`.
 *
 * @example
 * ```ts
 * import { embedFourierNorms } from "./embed_fourier.ts";
 * import { tensor } from "../tensor/mod.ts";
 * // p = 4, d_model = 1: token x embedded as cos(2πx/4); the last row is "="
 * const W_E = tensor([1, 0, -1, 0, 9], [5, 1]);
 * embedFourierNorms(new Map([["embed.W_E", W_E]]), 4); // [0, 1.414…, 0]: all on frequency 1
 * ```
 */
export function embedFourierNorms(weights: Map<string, Tensor>, p: number): number[] {
  const coefficients = fourier1d(numberEmbeddings(weights, p)).data; // [p, D]
  const D = coefficients.length / p;
  return Array.from({ length: frequencyCount(p) }, (_, k) => {
    let squares = 0;
    for (const row of frequencyRows(p, k)) {
      for (let d = 0; d < D; d++) squares += coefficients[row * D + d]! ** 2;
    }
    return Math.sqrt(squares);
  });
}

/**
 * Per frequency k of `freqs`, each token 0..p-1's embedding in the plane of that frequency: with
 * `a` and `b` the cos-k and sin-k rows of `F · W_E[:p]` (the `D`-vectors along which `W_E` varies
 * as cos(w_k x) and sin(w_k x)), the plane is spanned by `e1 = a/‖a‖` and `e2` = `b` made
 * orthogonal to `e1` (Gram–Schmidt) and normalised, and token x's coordinates are `(W_E[x] − m)·e1`
 * (`cos`) and `(W_E[x] − m)·e2` (`sin`), with `m` the mean of the p rows (the constant component).
 *
 * The whole centred row is projected, not only its frequency-k part: for a trained model the
 * frequencies' planes are nearly orthogonal and the points fall on a circle (an ellipse when
 * `‖a‖ ≠ ‖b‖`), while early in training the other frequencies leak in and the points scatter, so
 * the picture shows the circle forming. (The frequency-k part alone would always draw an exact
 * ellipse, at initialisation too.) An `a` or `b` (less its part along `e1`) that is zero up to
 * rounding (norm ≤ 1e-12 · ‖W_E[:p]‖) leaves that coordinate 0, as does the missing sine of
 * k = p/2 for even p.
 *
 * @example
 * ```ts
 * import { embeddingCircles } from "./embed_fourier.ts";
 * import { tensor } from "../tensor/mod.ts";
 * // p = 4, d_model = 2: token x at (cos, sin)(2πx/4), a unit circle; the last row is "="
 * const W_E = tensor([1, 0, 0, 1, -1, 0, 0, -1, 5, 5], [5, 2]);
 * const [circle] = embeddingCircles(new Map([["embed.W_E", W_E]]), 4, [1]);
 * circle!.cos; // [1, 0, -1, 0] (up to rounding)
 * circle!.sin; // [0, 1, 0, -1]
 * ```
 */
export function embeddingCircles(
  weights: Map<string, Tensor>,
  p: number,
  freqs: readonly number[],
): { freq: number; cos: number[]; sin: number[] }[] {
  const W = numberEmbeddings(weights, p); // [p, D]
  const D = W.shape[1]!;
  const coefficients = fourier1d(W).data as Float64Array; // [p, D], f64 as fourier1d returns
  const centred = centredRows(W.data, p, D); // [p, D]
  const scale = Math.sqrt(dot(coefficients, coefficients)); // ‖W_E[:p]‖: what "zero" is judged against
  return freqs.map((k) => {
    if (k === 0) throw new RangeError("embeddingCircles: frequency 0 (the constant) has no plane");
    const [cosRow, sinRow] = frequencyRows(p, k);
    const e1 = unit(coefficients.slice(cosRow! * D, (cosRow! + 1) * D), scale);
    const b = sinRow === undefined
      ? new Float64Array(D)
      : coefficients.slice(sinRow * D, (sinRow + 1) * D);
    const along = dot(b, e1);
    const e2 = unit(b.map((v, d) => v - along * e1[d]!), scale);
    const cos: number[] = [];
    const sin: number[] = [];
    for (let x = 0; x < p; x++) {
      const row = centred.subarray(x * D, (x + 1) * D);
      cos.push(dot(row, e1));
      sin.push(dot(row, e2));
    }
    return { freq: k, cos, sin };
  });
}

/** `W_E[:p]` as f64: the rows of the number tokens 0..p-1. */
function numberEmbeddings(weights: Map<string, Tensor>, p: number): Tensor {
  const W_E = weights.get("embed.W_E"); // [d_vocab, D]
  if (W_E === undefined) throw new Error("embed.W_E is missing from the weights");
  if (W_E.ndim !== 2 || W_E.shape[0]! < p) {
    throw new RangeError(`embed.W_E [${W_E.shape}]: expected at least ${p} rows (tokens 0..p-1)`);
  }
  const D = W_E.shape[1]!;
  return new Tensor(Float64Array.from(W_E.data.subarray(0, p * D)), [p, D]);
}

/** `[p, D]` rows minus their mean row. */
function centredRows(data: ArrayLike<number>, p: number, D: number): Float64Array {
  const mean = new Float64Array(D);
  for (let x = 0; x < p; x++) for (let d = 0; d < D; d++) mean[d] = mean[d]! + data[x * D + d]! / p;
  return Float64Array.from({ length: p * D }, (_, i) => data[i]! - mean[i % D]!);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * `v / ‖v‖`, or zeros when `v` is zero up to rounding (`‖v‖ ≤ 1e-12 · scale`): a wave with no sine
 * part leaves a residue of 1e-16 that normalising would turn into an arbitrary direction.
 */
function unit(v: Float64Array, scale: number): Float64Array {
  const size = Math.sqrt(dot(v, v));
  return size > 1e-12 * scale ? v.map((x) => x / size) : new Float64Array(v.length);
}
