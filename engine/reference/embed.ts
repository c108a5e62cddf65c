/**
 * Token and positional embedding in float64, forward and backward side by side: the reference of
 * `kernels/embed.wgsl` and the CPU training path's first layer (TransformerLens' `Embed` +
 * `PosEmbed`: `hook_embed + hook_pos_embed = blocks.0.hook_resid_pre`).
 *
 * `tokens [B, T]` ids, `W_E [V, D]`, `W_pos [C, D]` with T <= C (n_ctx):
 * `resid[b, t] = W_E[tokens[b, t]] + W_pos[t]`. Backward: `dW_E[v]` sums `dresid[b, t]` over the
 * positions holding token v, `dW_pos[t]` sums `dresid[b, t]` over the batch (zero for t >= T).
 *
 * Out-of-range token ids (< 0 or >= V) embed as zeros and their gradient goes nowhere — the same as
 * the GPU kernels.
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";

/** What `embedBackward` returns. */
export interface EmbedGradients {
  /** `[V, D]`: the gradient of the token embedding. */
  dW_E: Tensor;
  /** `[C, D]`: the gradient of the positional embedding (zero rows from T on). */
  dW_pos: Tensor;
}

/** `[B, T]` of the tokens. */
function tokensShape(tokens: Tensor): [number, number] {
  if (tokens.ndim !== 2) throw new RangeError(`embed: tokens [${tokens.shape}] not [B, T]`);
  return tokens.shape as [number, number];
}

/** The id at flat position n where it is in [0, V), else -1. */
function tokenAt(tokens: Tensor, n: number, V: number): number {
  const tok = tokens.data[n]!;
  return Number.isInteger(tok) && tok >= 0 && tok < V ? tok : -1;
}

/**
 * `resid [B, T, D] = W_E[tokens] + W_pos[:T]`.
 *
 * @example
 * ```ts
 * import { embedForward } from "./embed.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const W_E = tensor([1, 2, 10, 20, 100, 200], [3, 2]); // V = 3, D = 2
 * const W_pos = tensor([0.1, 0.2, 0.3, 0.4], [2, 2]); // C = 2
 * embedForward(tensor([2, 0], [1, 2], "i32"), W_E, W_pos).toNested();
 * // [[[100.1, 200.2], [1.3, 2.4]]]
 * ```
 */
export function embedForward(tokens: Tensor, W_E: Tensor, W_pos: Tensor): Tensor {
  const [B, T] = tokensShape(tokens);
  const [V, D] = W_E.shape as [number, number];
  if (W_E.ndim !== 2 || W_pos.ndim !== 2 || W_pos.shape[1] !== D || W_pos.shape[0]! < T) {
    throw new RangeError(`embed: W_E [${W_E.shape}], W_pos [${W_pos.shape}] for T = ${T}`);
  }
  const resid = new Float64Array(B * T * D);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const n = b * T + t;
      const tok = tokenAt(tokens, n, V);
      for (let d = 0; d < D; d++) {
        const e = tok < 0 ? 0 : W_E.data[tok * D + d]!;
        resid[n * D + d] = e + W_pos.data[t * D + d]!;
      }
    }
  }
  return new Tensor(resid, [B, T, D]);
}

/**
 * The gradients of the embedding: `dW_E [V, D]` and `dW_pos [C, D]` from `dresid [B, T, D]`, for
 * a vocabulary of `dVocab` (V) and `nCtx` (C) positions.
 *
 * @example
 * ```ts
 * import { embedBackward } from "./embed.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const dresid = tensor([1, 2, 3, 4, 5, 6], [1, 3, 2]); // B = 1, T = 3, D = 2
 * const { dW_E, dW_pos } = embedBackward(tensor([1, 0, 1], [1, 3], "i32"), dresid, {
 *   dVocab: 2,
 *   nCtx: 4,
 * });
 * dW_E.toNested(); // [[3, 4], [6, 8]]
 * dW_pos.toNested(); // [[1, 2], [3, 4], [5, 6], [0, 0]]
 * ```
 */
export function embedBackward(
  tokens: Tensor,
  dresid: Tensor,
  sizes: { dVocab: number; nCtx: number },
): EmbedGradients {
  const [B, T] = tokensShape(tokens);
  const { dVocab: V, nCtx: C } = sizes;
  const D = dresid.shape[2] ?? 0;
  if (dresid.shape.join() !== `${B},${T},${D}` || C < T) {
    throw new RangeError(`embed: dresid [${dresid.shape}] for tokens [${B},${T}], n_ctx ${C}`);
  }
  const dW_E = new Float64Array(V * D);
  const dW_pos = new Float64Array(C * D);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const n = b * T + t;
      const tok = tokenAt(tokens, n, V);
      for (let d = 0; d < D; d++) {
        const g = dresid.data[n * D + d]!;
        if (tok >= 0) dW_E[tok * D + d] = dW_E[tok * D + d]! + g;
        dW_pos[t * D + d] = dW_pos[t * D + d]! + g;
      }
    }
  }
  return { dW_E: new Tensor(dW_E, [V, D]), dW_pos: new Tensor(dW_pos, [C, D]) };
}
