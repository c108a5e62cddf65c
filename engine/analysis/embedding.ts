/**
 * The embedding's principal components: where each token sits in the few directions along which
 * `W_E`'s rows vary most. In a grokked modular-addition model the leading pairs are the circles
 * of the key frequencies; in the out-of-context model a token and its alias come together.
 *
 * @module
 */

import { pca, type Tensor } from "../tensor/mod.ts";
import { readF64 } from "./decompose.ts";

/** What `embeddingPca` returns (`CheckpointReport.embedding_pca`). */
export interface EmbeddingPca {
  /** `[k]`: the fraction of the rows' total variance along each component, descending. */
  explained: number[];
  /** `[d_vocab][k]`: each token's centred embedding in component coordinates. */
  coords: number[][];
}

/**
 * PCA of `embed.W_E`'s rows (one per token) with scikit-learn's conventions (`pca` of
 * engine/tensor: columns centred, component signs fixed): the first `k` components' explained
 * variance ratios and each token's coordinates along them. `k` runs from 1 to
 * `min(d_vocab, d_model)`. The axes come from the `[d_model, d_model]` Gram matrix (`pca`'s
 * `"gram"` method): one product over the vocabulary and a `d_model`-sized eigenproblem rather
 * than an SVD of all of `W_E`, which for GPT-2's 50,257 rows took most of `analyze`'s time.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { embeddingPca } from "./embedding.ts";
 * // Three tokens on a line through (1, 1): all the variance along one direction.
 * const weights = new Map([["embed.W_E", tensor([0, 0, 1, 1, 2, 2], [3, 2])]]);
 * const { explained, coords } = embeddingPca(weights, 2);
 * explained; // [1, 0] up to rounding
 * coords.map((c) => c[0]); // [-1.414…, 0, 1.414…]
 * ```
 */
export function embeddingPca(weights: Map<string, Tensor>, k: number): EmbeddingPca {
  const W_E = readF64(weights, "embed.W_E"); // [d_vocab, d_model]
  const { explainedVarianceRatio, projected } = pca(W_E, k, { method: "gram" });
  const coords: number[][] = [];
  for (let v = 0; v < projected.shape[0]!; v++) {
    coords.push(Array.from(projected.data.subarray(v * k, (v + 1) * k)));
  }
  return { explained: Array.from(explainedVarianceRatio.data), coords };
}
