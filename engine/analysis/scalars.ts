/**
 * The two scalar measures of grokking's "cleanup" phase (Nanda et al. 2023, §5): weight decay
 * shrinks the sum of squared weights, and the embedding concentrates on a few Fourier
 * frequencies, which the Gini coefficient of its per-frequency norms measures (1: one frequency
 * holds everything, 0: all equal).
 *
 * @module
 */

import type { Tensor } from "../tensor/mod.ts";

/**
 * The Gini coefficient of non-negative values: `Σ_i Σ_j |x_i − x_j| / (2 n Σ x)`, computed from the
 * ascending sort as `2 Σ_i i·x_(i) / (n Σ x) − (n + 1)/n` (i from 1). 0 when all values are equal
 * (and for an empty or all-zero input), `(n − 1)/n` when one value holds everything (→ 1 as n
 * grows). The paper reports it for the Fourier norms of `W_E` and `W_L` but its released code has
 * no function for it; this is the textbook definition.
 *
 * @example
 * ```ts
 * import { gini } from "./scalars.ts";
 * gini([1, 1, 1, 1]); // 0
 * gini([0, 0, 0, 4]); // 0.75 = (n - 1) / n
 * gini([1, 3]); // 0.25 = |1 - 3| · 2 / (2 · 2 · 4)
 * ```
 */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    if (!(v >= 0)) throw new RangeError(`gini: values must be non-negative, got ${v}`);
    total += v;
    weighted += (i + 1) * v;
  }
  if (total === 0) return 0;
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/**
 * `Σ` of every weight squared over every tensor of the map: the paper's `sum_sq_weights` (it sums
 * `param.pow(2).sum()` over `model.named_parameters()`, biases included, as here).
 *
 * @example
 * ```ts
 * import { sumSquaredWeights } from "./scalars.ts";
 * import { tensor } from "../tensor/mod.ts";
 * sumSquaredWeights(new Map([["a", tensor([1, 2])], ["b", tensor([3])]])); // 14
 * ```
 */
export function sumSquaredWeights(weights: Map<string, Tensor>): number {
  let total = 0;
  for (const w of weights.values()) {
    for (const v of w.data) total += v * v;
  }
  return total;
}
