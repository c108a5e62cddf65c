/**
 * The QK and OV circuits of each attention head (Elhage et al. 2021, TransformerLens'
 * `FactoredMatrix`): `W_Q[h] W_K[h]ᵀ` says which residual directions a query attends from and to,
 * `W_V[h] W_O[h]` what a head copies, and `W_E · OV · W_U` the latter from input token to output
 * logit. Each `[D, D]` matrix is a product through `d_head` dimensions, so it has rank at most
 * E; its singular values beyond the first E are rounding noise and are left out. Biases are not
 * part of the circuits (as in TransformerLens).
 *
 * Shape letters: D d_model, H n_heads, E d_head, V d_vocab, U d_vocab_out.
 *
 * @module
 */

import { matmul, mul, slice, svd, type Tensor, transpose } from "../tensor/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import type { HeadCircuits } from "./report.ts";
import { readF64 } from "./decompose.ts";

/**
 * Every head's QK and OV singular values, layer by layer, heads in order: the first
 * `min(d_head, d_model)` singular values of `qkMatrix` and `ovMatrix`, descending.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { headCircuits } from "./circuits.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const heads = headCircuits(cfg, weights);
 * heads.map((c) => [c.layer, c.head]); // [[0, 0], [0, 1]]
 * heads[0]!.qk_singular.length; // 4
 * ```
 */
export function headCircuits(cfg: ModelConfig, weights: Map<string, Tensor>): HeadCircuits[] {
  const out: HeadCircuits[] = [];
  for (let layer = 0; layer < cfg.n_layers; layer++) {
    const attn = (n: string, h: number) => headWeight(weights, `blocks.${layer}.attn.${n}`, h);
    for (let head = 0; head < cfg.n_heads; head++) {
      out.push({
        layer,
        head,
        qk_singular: productSingularValues(attn("W_Q", head), attn("W_K", head)),
        ov_singular: productSingularValues(attn("W_V", head), transpose(attn("W_O", head))),
      });
    }
  }
  return out;
}

/**
 * The QK circuit of head `head` of layer `layer`: `W_Q[h] · W_K[h]ᵀ`, `[D, D]`, so that the
 * attention score (before the `1/sqrt(d_head)` and without biases) of a query residual `x_q`
 * on a key residual `x_k` is `x_q · QK · x_kᵀ`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { qkMatrix } from "./circuits.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * qkMatrix(weights, 0, 1).shape; // [8, 8]
 * ```
 */
export function qkMatrix(weights: Map<string, Tensor>, layer: number, head: number): Tensor {
  const W_Q = headWeight(weights, `blocks.${layer}.attn.W_Q`, head); // [D, E]
  const W_K = headWeight(weights, `blocks.${layer}.attn.W_K`, head); // [D, E]
  return matmul(W_Q, transpose(W_K));
}

/**
 * The OV circuit of head `head` of layer `layer`: `W_V[h] · W_O[h]`, `[D, D]`, what the head
 * writes to the residual stream per unit of attention on a residual `x`: `x · OV`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { ovMatrix } from "./circuits.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * ovMatrix(weights, 0, 0).shape; // [8, 8]
 * ```
 */
export function ovMatrix(weights: Map<string, Tensor>, layer: number, head: number): Tensor {
  const W_V = headWeight(weights, `blocks.${layer}.attn.W_V`, head); // [D, E]
  const W_O = headWeight(weights, `blocks.${layer}.attn.W_O`, head); // [E, D]
  return matmul(W_V, W_O);
}

/**
 * The full OV circuit `W_E · W_V[h] · W_O[h] · W_U`, `[d_vocab, d_vocab_out]`: the logits a
 * head adds when it attends wholly to a token (no LayerNorm, no positions). Multiplied through
 * `d_head` (`(W_E W_V)(W_O W_U)`) so the `[D, D]` matrix is never formed.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { fullOvCircuit } from "./circuits.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * fullOvCircuit(weights, 0, 0).shape; // [114, 113]
 * ```
 */
export function fullOvCircuit(weights: Map<string, Tensor>, layer: number, head: number): Tensor {
  const W_V = headWeight(weights, `blocks.${layer}.attn.W_V`, head); // [D, E]
  const W_O = headWeight(weights, `blocks.${layer}.attn.W_O`, head); // [E, D]
  const W_E = readF64(weights, "embed.W_E"); // [V, D]
  const W_U = readF64(weights, "unembed.W_U"); // [D, U]
  return matmul(matmul(W_E, W_V), matmul(W_O, W_U));
}

/**
 * The full QK circuit `W_E · W_Q[h] · W_K[h]ᵀ · W_Eᵀ`, `[d_vocab, d_vocab]` (query token × key
 * token), TransformerLens' `W_E @ QK @ W_E.T`: the attention score (before `1/sqrt(d_head)`) a
 * query token puts on a key token through the embedding alone, without positional embeddings,
 * LayerNorm or biases, as the field reads it. Multiplied through `d_head`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { fullQkCircuit } from "./circuits.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * fullQkCircuit(weights, 0, 1).shape; // [114, 114]
 * ```
 */
export function fullQkCircuit(weights: Map<string, Tensor>, layer: number, head: number): Tensor {
  const W_Q = headWeight(weights, `blocks.${layer}.attn.W_Q`, head); // [D, E]
  const W_K = headWeight(weights, `blocks.${layer}.attn.W_K`, head); // [D, E]
  const W_E = readF64(weights, "embed.W_E"); // [V, D]
  return matmul(matmul(W_E, W_Q), transpose(matmul(W_E, W_K)));
}

/**
 * The singular values of `A · Bᵀ` (`A`, `B` `[D, E]`), the first `min(D, E)`, without forming
 * the `[D, D]` product: with `A = U_a S_a Vh_a` and `B = U_b S_b Vh_b`, `U_a` and `U_b` have
 * orthonormal columns, so `A Bᵀ` has the singular values of the small core
 * `S_a Vh_a Vh_bᵀ S_b` (TransformerLens' `FactoredMatrix` does the same with QR).
 */
function productSingularValues(A: Tensor, B: Tensor): number[] {
  const a = svd(A);
  const b = svd(B);
  const left = mul(a.Vh, a.S.reshape([-1, 1])); // S_a Vh_a
  const right = mul(b.Vh, b.S.reshape([-1, 1])); // S_b Vh_b
  return Array.from(svd(matmul(left, transpose(right))).S.data);
}

/** Head `head`'s matrix of a `[H, ...]` attention weight, in float64. */
function headWeight(weights: Map<string, Tensor>, name: string, head: number): Tensor {
  const W = readF64(weights, name);
  if (!Number.isInteger(head) || head < 0 || head >= W.shape[0]!) {
    throw new RangeError(`${name}: head ${head} is outside [0, ${W.shape[0]})`);
  }
  return slice(W, [head]);
}
