/**
 * Restricted and excluded loss (Nanda et al. 2023, §5.1), the progress measures that show the
 * Fourier algorithm forming before the test loss moves. A grokked model's logit for answer c is
 * mostly `Σ_k α_k cos(w_k (x + y − c))` over a few key frequencies k (`w_k = 2πk/p`), which for each
 * c is a combination of the two p²-vectors `cos(w_k (x + y))` and `sin(w_k (x + y))` over the input
 * grid. *Restricted loss* keeps only those components of the logits; *excluded loss* removes them
 * and measures how well the rest (memorisation) still fits the train set.
 *
 * Shape letters: p the modulus, N = p² examples in the order `i = x · p + y`, V outputs.
 *
 * @module
 */

import { fourierBasis, take, Tensor } from "../tensor/mod.ts";
import { crossEntropyEval } from "../reference/mod.ts";
import { frequencyRows } from "./frequencies.ts";

/** Which components and which examples the restricted and excluded losses use. */
export interface FrequencyLossOptions {
  /** The modulus. */
  p: number;
  /** The frequencies whose `cos(w_k(x + y))` and `sin(w_k(x + y))` components are kept or removed. */
  freqs: readonly number[];
  /** `[N]`: each example's answer. */
  targets: Int32Array;
  /** The examples the loss is the mean over (the train set, in the paper). */
  examples: Int32Array;
}

/**
 * The mean loss over `examples` with only the key frequencies' components of the logits kept: the
 * paper's `calculate_trig_loss`. For each frequency k the logits (each output column over the N
 * inputs) are projected on the unit p²-vectors of `cos(w_k(x + y))` and `sin(w_k(x + y))` (their
 * `get_component_cos_xpy` / `get_component_sin_xpy`, built from `fourier_2d_basis_term` as
 * `(cos⊗cos − sin⊗sin)/√2` and `(sin⊗cos + cos⊗sin)/√2`); those projections are summed and, as
 * their `test_logits(..., bias_correction=True)`, each output gets back the mean over all N inputs
 * of what was dropped (a per-answer bias the Fourier terms cannot hold, since they average to 0).
 * Their function defaults to all p² examples (`mode='all'`); `examples` picks the set (mechlab's
 * report uses the train set). For even p, k = p/2 has only its cosine direction `cos⊗cos`.
 *
 * @example
 * ```ts
 * import { restrictedLoss } from "./restricted_loss.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const p = 5;
 * const targets = Int32Array.from({ length: p * p }, (_, i) => (Math.floor(i / p) + i) % p);
 * // logits 10·cos(w_1(x + y − c)): all on frequency 1
 * const logits = tensor(Array.from({ length: p * p * p }, (_, j) => {
 *   const i = Math.floor(j / p);
 *   return 10 * Math.cos((2 * Math.PI * (Math.floor(i / p) + (i % p) - (j % p))) / p);
 * }), [p * p, p]);
 * const examples = Int32Array.from({ length: p * p }, (_, i) => i);
 * restrictedLoss(logits, { p, freqs: [1], targets, examples }); // ≈ 0.002, the full loss
 * restrictedLoss(logits, { p, freqs: [2], targets, examples }); // ln 5 ≈ 1.609: nothing kept
 * ```
 */
export function restrictedLoss(logits: Tensor, options: FrequencyLossOptions): number {
  const L = checkLogits(logits, options.p); // [N, V]
  const kept = frequencyComponents(L, options); // [N, V]
  const [N, V] = L.shape as [number, number];
  const bias = new Float64Array(V); // mean over inputs of what the projection dropped
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < V; c++) bias[c] = bias[c]! + (L.data[i * V + c]! - kept[i * V + c]!) / N;
  }
  for (let j = 0; j < N * V; j++) kept[j] = kept[j]! + bias[j % V]!;
  return meanLoss(new Tensor(kept, [N, V]), options);
}

/**
 * The mean loss over `examples` (the train set) with the key frequencies' components removed from
 * the logits: `logits − Σ_k (cos + sin components)`, no bias correction, as the paper's
 * `calculate_excluded_loss`. Deviation: theirs removes one frequency at a time and returns the
 * list (one copy of their code averages it); here all of `freqs` are removed at once, the
 * "excluded loss" of the paper's text, and a single frequency is `freqs: [k]`.
 *
 * @example
 * ```ts
 * import { excludedLoss } from "./restricted_loss.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const p = 5;
 * const targets = Int32Array.from({ length: p * p }, (_, i) => (Math.floor(i / p) + i) % p);
 * const logits = tensor(Array.from({ length: p * p * p }, (_, j) => {
 *   const i = Math.floor(j / p);
 *   return 10 * Math.cos((2 * Math.PI * (Math.floor(i / p) + (i % p) - (j % p))) / p);
 * }), [p * p, p]);
 * const examples = Int32Array.from({ length: p * p }, (_, i) => i);
 * excludedLoss(logits, { p, freqs: [1], targets, examples }); // ln 5 ≈ 1.609: nothing left
 * excludedLoss(logits, { p, freqs: [2], targets, examples }); // ≈ 0.002: all of it left
 * ```
 */
export function excludedLoss(logits: Tensor, options: FrequencyLossOptions): number {
  const L = checkLogits(logits, options.p); // [N, V]
  const removed = frequencyComponents(L, options); // [N, V]
  const rest = L.data.map((v, j) => v - removed[j]!);
  return meanLoss(new Tensor(rest, L.shape), options);
}

/** `[N, V]`: Σ over `freqs` of the logits' projections on their (x + y) directions. */
function frequencyComponents(L: Tensor, options: FrequencyLossOptions): Float64Array {
  const { p, freqs } = options;
  const [N, V] = L.shape as [number, number];
  const out = new Float64Array(N * V);
  const F = fourierBasis(p).data as Float64Array; // [p, p], f64
  for (const k of new Set(freqs)) {
    if (k === 0) throw new RangeError("restricted/excluded loss: frequency 0 is not a wave");
    for (const u of sumDirections(F, p, k)) {
      const coefficient = new Float64Array(V); // uᵀ L, one per output
      for (let i = 0; i < N; i++) {
        for (let c = 0; c < V; c++) coefficient[c] = coefficient[c]! + u[i]! * L.data[i * V + c]!;
      }
      for (let i = 0; i < N; i++) {
        for (let c = 0; c < V; c++) out[i * V + c] = out[i * V + c]! + u[i]! * coefficient[c]!;
      }
    }
  }
  return out;
}

/**
 * The unit p²-vectors of `cos(w_k(x + y))` and `sin(w_k(x + y))` over `i = x · p + y`, from the
 * basis rows as the paper builds them: `cos(a + b) = cos a cos b − sin a sin b`, `sin(a + b) =
 * sin a cos b + cos a sin b`, each a sum of two orthonormal 2D terms, hence the `/√2`.
 */
function sumDirections(F: Float64Array, p: number, k: number): Float64Array[] {
  const [cosRow, sinRow] = frequencyRows(p, k);
  const c = F.subarray(cosRow! * p, (cosRow! + 1) * p);
  if (sinRow === undefined) {
    return [Float64Array.from({ length: p * p }, (_, i) => c[Math.floor(i / p)]! * c[i % p]!)];
  }
  const s = F.subarray(sinRow * p, (sinRow + 1) * p);
  const cosDir = new Float64Array(p * p);
  const sinDir = new Float64Array(p * p);
  for (let x = 0; x < p; x++) {
    for (let y = 0; y < p; y++) {
      cosDir[x * p + y] = (c[x]! * c[y]! - s[x]! * s[y]!) / Math.SQRT2;
      sinDir[x * p + y] = (s[x]! * c[y]! + c[x]! * s[y]!) / Math.SQRT2;
    }
  }
  return [cosDir, sinDir];
}

/** The logits as f64 `[p², V]`. */
function checkLogits(logits: Tensor, p: number): Tensor {
  if (logits.ndim !== 2 || logits.shape[0] !== p * p) {
    throw new RangeError(
      `restricted/excluded loss: logits [${logits.shape}], expected [${p * p}, V]`,
    );
  }
  return logits.astype("f64");
}

/** Mean cross-entropy over `examples` (natural log). */
function meanLoss(L: Tensor, options: FrequencyLossOptions): number {
  const { examples, targets } = options;
  if (examples.length === 0) throw new RangeError("restricted/excluded loss: no examples");
  const rows = take(L, Array.from(examples)); // [n, V]
  const answers = new Tensor(Int32Array.from(examples, (i) => targets[i]!), [examples.length]);
  let total = 0;
  for (const v of crossEntropyEval(rows, answers).loss.data) total += v;
  return total / examples.length;
}
