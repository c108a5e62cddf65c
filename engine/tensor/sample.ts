/**
 * Drawing token indices: categorical sampling by the inverse of the cumulative distribution, and
 * the logit filters of text generation (temperature, top-k, top-p) that shape the distribution
 * first. All randomness comes from a seeded `Rng`, so a generation is reproducible from its seed.
 *
 * @module
 */

import { allocate, floatOf } from "./dtype.ts";
import { div } from "./elementwise.ts";
import { type RandomSource, rngFrom } from "./random.ts";
import { softmax } from "./softmax.ts";
import { Tensor } from "./tensor.ts";

/**
 * Slack when the cumulative probability is compared with `p` in `topP`: softmax rounds each
 * probability, so a set whose exact mass is `p` can add up to a hair below it.
 */
const TOP_P_SLACK = 1e-9;

/**
 * `n` independent draws of an index from the distribution `probs`, by inverse-CDF sampling: the
 * cumulative sums `c_0 <= c_1 <= ...` are formed once, and each uniform draw `x` in
 * `[0, total)` becomes the number of cumulative sums at or below it, i.e. the first `i` with
 * `c_i > x`, found by binary search. An index of probability 0 adds nothing to the sums, so it
 * is never drawn.
 *
 * `probs` are weights: they are normalised by their total (`[1, 3]` means `[0.25, 0.75]`), so
 * they need not sum exactly to 1. Each row is divided by its largest weight before the sums are
 * formed, so that any finite weights work: `[1e308, 1e308]` would otherwise total Infinity and
 * always draw the last index. A 2-D `[batch, vocab]` tensor holds one distribution per row;
 * the result then has `batch * n` indices, row by row: entry `r * n + j` is draw `j` of row `r`.
 * Rows are drawn in order from one stream, each draw taking one `Rng.uniform()`.
 *
 * @example
 * ```ts
 * import { sampleCategorical } from "./sample.ts";
 * import { tensor } from "./tensor.ts";
 * sampleCategorical([0, 1, 0], 3, { seed: 0 }); // Int32Array [1, 1, 1]
 * sampleCategorical(tensor([1, 0, 0, 1], [2, 2]), 2, { seed: 0 }); // Int32Array [0, 0, 1, 1]
 * ```
 */
export function sampleCategorical(
  probs: Tensor | ArrayLike<number>,
  n: number,
  options: RandomSource,
): Int32Array {
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`sampleCategorical: n must be a non-negative integer, got ${n}`);
  }
  const batched = probs instanceof Tensor && probs.ndim === 2;
  if (probs instanceof Tensor && !batched && probs.ndim !== 1) {
    throw new Error(`sampleCategorical: probs must be 1-D or 2-D, got shape [${probs.shape}]`);
  }
  const data = probs instanceof Tensor ? probs.data : probs;
  const width = batched ? probs.shape[1]! : data.length;
  if (width === 0) throw new Error("sampleCategorical: empty distribution");
  const rows = data.length / width;
  const rng = rngFrom(options, "sampleCategorical");
  const out = new Int32Array(rows * n);
  const cdf = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    let largest = 0;
    let last = -1;
    for (let i = 0; i < width; i++) {
      const p = data[r * width + i]!;
      if (!(p >= 0 && p < Infinity)) {
        const where = batched ? `${r}, ${i}` : `${i}`;
        throw new Error(
          `sampleCategorical: probs[${where}] is ${p}; probabilities must be finite and >= 0`,
        );
      }
      largest = Math.max(largest, p);
      if (p > 0) last = i;
    }
    if (last < 0) {
      throw new Error(
        `sampleCategorical: all probabilities are zero${batched ? ` in row ${r}` : ""}`,
      );
    }
    // Scaled to at most 1 each, the total is at most the width: no overflow.
    let total = 0;
    for (let i = 0; i < width; i++) {
      total += data[r * width + i]! / largest;
      cdf[i] = total;
    }
    for (let j = 0; j < n; j++) out[r * n + j] = firstAbove(cdf, rng.uniform() * total, last);
  }
  return out;
}

/**
 * `logits / temperature`: below 1 sharpens the distribution towards the argmax, above 1 flattens
 * it towards uniform.
 *
 * @example
 * ```ts
 * import { applyTemperature } from "./sample.ts";
 * import { tensor } from "./tensor.ts";
 * applyTemperature(tensor([1, 2]), 0.5).toArray(); // Float64Array [2, 4]
 * ```
 */
export function applyTemperature(logits: Tensor, temperature: number): Tensor {
  if (!(temperature > 0)) {
    throw new Error(`applyTemperature: temperature must be > 0, got ${temperature}`);
  }
  return div(logits, temperature);
}

/**
 * Keeps the `k` largest logits of each row (last axis) and sets the rest to `-Infinity`; on ties
 * the lower indices are kept. Integer logits come back as f64, which can hold `-Infinity`.
 *
 * @example
 * ```ts
 * import { topK } from "./sample.ts";
 * import { tensor } from "./tensor.ts";
 * topK(tensor([1, 3, 3, 2]), 2).toArray(); // Float64Array [-Infinity, 3, 3, -Infinity]
 * ```
 */
export function topK(logits: Tensor, k: number): Tensor {
  if (!Number.isInteger(k) || k < 1) throw new Error(`topK: k must be an integer >= 1, got ${k}`);
  return keepLargest(logits, logits, "topK", () => k);
}

/**
 * Nucleus filtering: keeps, per row (last axis), the smallest set of most probable tokens whose
 * softmax probabilities, computed in f64 for every dtype, add up to at least `p` (within 1e-9,
 * for rounding), always at least one, and sets the rest to `-Infinity`. Ties are ranked by
 * index; `p = 1` keeps every token.
 *
 * @example
 * ```ts
 * import { topP } from "./sample.ts";
 * import { tensor } from "./tensor.ts";
 * topP(tensor([0.5, 0.3, 0.2].map(Math.log)), 0.8).toArray(); // [log 0.5, log 0.3, -Infinity]
 * ```
 */
export function topP(logits: Tensor, p: number): Tensor {
  if (!(p > 0 && p <= 1)) throw new Error(`topP: p must be in (0, 1], got ${p}`);
  // Ranked and summed in f64 whatever the dtype: an f32 softmax is off by ~1e-8, far beyond the
  // slack, and would tip the nucleus by a token.
  return keepLargest(logits, softmax(logits.astype("f64")), "topP", (sorted) => {
    if (p === 1) return sorted.length;
    let mass = 0;
    for (let i = 0; i < sorted.length; i++) {
      mass += sorted[i]!;
      if (mass >= p - TOP_P_SLACK) return i + 1;
    }
    return sorted.length;
  });
}

/** Options of `sampleLogits`: the filters to apply, in this order, and the draws to make. */
export interface SampleLogitsOptions extends RandomSource {
  /** Divides the logits first (see `applyTemperature`). */
  temperature?: number;
  /** Then keeps the `topK` largest per row. */
  topK?: number;
  /** Then keeps the nucleus of mass `topP`. */
  topP?: number;
  /** Draws per row (default 1). */
  n?: number;
}

/**
 * Samples token indices from logits `[..., vocab]`: temperature, then top-k, then top-p (each only
 * if given), then `softmax` and `sampleCategorical`. The leading axes are flattened into rows, so
 * the result holds `n` indices per row, row-major: entry `r * n + j` is draw `j` of row `r`.
 *
 * @example
 * ```ts
 * import { sampleLogits } from "./sample.ts";
 * import { tensor } from "./tensor.ts";
 * const logits = tensor([2, 1, 0, 0, 1, 2], [2, 3]);
 * sampleLogits(logits, { topK: 1, seed: 0 }); // Int32Array [0, 2]
 * ```
 */
export function sampleLogits(logits: Tensor, options: SampleLogitsOptions): Int32Array {
  const rng = rngFrom(options, "sampleLogits");
  const vocab = vocabOf(logits, "sampleLogits");
  let x = logits;
  if (options.temperature !== undefined) x = applyTemperature(x, options.temperature);
  if (options.topK !== undefined) x = topK(x, options.topK);
  if (options.topP !== undefined) x = topP(x, options.topP);
  return sampleCategorical(softmax(x).reshape([-1, vocab]), options.n ?? 1, { rng });
}

/**
 * The first index `i <= last` with `cdf[i] > x`, or `last` (the last positive entry) when rounding
 * leaves `x` at the total.
 */
function firstAbove(cdf: Float64Array, x: number, last: number): number {
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The filter behind `topK` and `topP`: per row, ranks the tokens by `scores` (descending, ties by
 * index, as the sort is stable), asks `count` how many to keep given the sorted scores, and
 * returns the logits with every other token set to `-Infinity`.
 */
function keepLargest(
  logits: Tensor,
  scores: Tensor,
  caller: string,
  count: (sorted: Float64Array) => number,
): Tensor {
  const width = vocabOf(logits, caller);
  const out = allocate(floatOf(logits.dtype), logits.size).fill(-Infinity);
  const s = scores.data;
  const order: number[] = new Array(width);
  const sorted = new Float64Array(width);
  for (let start = 0; start < logits.size; start += width) {
    for (let i = 0; i < width; i++) order[i] = i;
    order.sort((a, b) => s[start + b]! - s[start + a]!);
    for (let i = 0; i < width; i++) sorted[i] = s[start + order[i]!]!;
    const keep = Math.min(count(sorted), width);
    for (let i = 0; i < keep; i++) out[start + order[i]!] = logits.data[start + order[i]!]!;
  }
  return new Tensor(out, logits.shape);
}

/** The size of the last (vocab) axis; a scalar has none. */
function vocabOf(logits: Tensor, caller: string): number {
  if (logits.ndim === 0) throw new Error(`${caller}: logits must have a vocab axis, got a scalar`);
  return logits.shape[logits.ndim - 1]!;
}
