/**
 * Where the f32 model's positional embedding goes in a shortformer model (TransformerLens'
 * `positional_embedding_type: "shortformer"`): not into the residual stream but into every
 * layer's query and key inputs, after ln1. As q = (x + W_pos[t])·W_Q + b_Q = x·W_Q + b_Q +
 * W_pos[t]·W_Q, the positions' share is one `[T, 3·H·E]` table per layer, `W_pos[:T]` times the
 * fused `W_Q|W_K|W_V` with the v columns zeroed, added to row t of every sequence's q|k|v. The
 * backward sums the q|k gradient over the batch per position: `dW_Q|dW_K += W_pos[:T]ᵀ·S` and
 * `dW_pos[:T] += S·(W_Q|W_K)ᵀ`. The training model, its evaluation and the cached sampler all
 * read the table from here.
 *
 * Shape letters: N = B·T rows, T positions, D d_model, F = 3·H·E (q|k|v side by side).
 *
 * @module
 */

import type { ModelConfig } from "../config.ts";
import { linearBackward, linearForward } from "./linear.ts";

/**
 * `[T, F]`: the share of positions 0 .. T-1 in q|k|v (`W_pos[:T]·Wqkv`, v columns 0) for a
 * shortformer model; `undefined` for a standard one, whose positions are in the residual stream.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { positionsQk } from "./positions.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 1, n_heads: 1, d_head: 1, positional_embedding_type: "shortformer" as const };
 * // D = 1, F = 3: W_Q = 2, W_K = 3, W_V = 4; W_pos = [1, 10]
 * positionsQk(cfg, new Float32Array([1, 10]), new Float32Array([2, 3, 4]), 2);
 * // Float32Array [2, 3, 0, 20, 30, 0]
 * ```
 */
export function positionsQk(
  cfg: ModelConfig,
  W_pos: Float32Array,
  Wqkv: Float32Array,
  T: number,
): Float32Array | undefined {
  if (cfg.positional_embedding_type !== "shortformer") return undefined;
  const D = cfg.d_model;
  const F = Wqkv.length / D;
  const table = linearForward(W_pos.subarray(0, T * D), Wqkv, new Float32Array(F), D); // [T, F]
  for (let t = 0; t < T; t++) table.fill(0, t * F + (2 * F) / 3, (t + 1) * F);
  return table;
}

/**
 * `qkv [N, F] += table [T, F]` at row `n % T`: every sequence's q and k get their positions.
 *
 * @example
 * ```ts
 * import { addPositions } from "./positions.ts";
 * const qkv = new Float32Array(4); // N = 4 rows of F = 1: two sequences of T = 2
 * addPositions(qkv, new Float32Array([1, 2]));
 * qkv; // Float32Array [1, 2, 1, 2]
 * ```
 */
export function addPositions(qkv: Float32Array, table: Float32Array): void {
  const size = table.length;
  for (let i = 0; i < qkv.length; i++) qkv[i] = qkv[i]! + table[i % size]!;
}

/**
 * The backward of `positionsQk` + `addPositions` from `dqkv [N, F]`: `dWqkv [D, F]` and
 * `dW_pos [C, D]` (rows t < T) accumulate the positions' share of the gradient.
 *
 * @example
 * ```ts
 * import { positionsQkBackward } from "./positions.ts";
 * // D = 1, F = 3, T = 1, two rows: S = Σ_rows dq|dk = [2, 4] (v's gradient left out)
 * const dWqkv = new Float32Array(3), dW_pos = new Float32Array(1);
 * positionsQkBackward({
 *   dqkv: new Float32Array([1, 2, 9, 1, 2, 9]),
 *   W_pos: new Float32Array([3]),
 *   Wqkv: new Float32Array([1, 1, 5]),
 *   T: 1,
 *   D: 1,
 * }, { dWqkv, dW_pos });
 * dWqkv; // Float32Array [6, 12, 0]: W_pos[0]·S
 * dW_pos; // Float32Array [6]: S·(W_Q|W_K)ᵀ = 2 + 4
 * ```
 */
export function positionsQkBackward(
  inputs: { dqkv: Float32Array; W_pos: Float32Array; Wqkv: Float32Array; T: number; D: number },
  grads: { dWqkv: Float32Array; dW_pos: Float32Array },
): void {
  const { dqkv, W_pos, Wqkv, T, D } = inputs;
  const F = Wqkv.length / D;
  const S = new Float64Array(T * F); // [T, F]: Σ over the batch, q and k columns only
  for (let i = 0; i < dqkv.length; i++) {
    if (i % F < (2 * F) / 3) S[i % (T * F)] = S[i % (T * F)]! + dqkv[i]!;
  }
  const dy = Float32Array.from(S);
  const dpos = linearBackward({ x: W_pos.subarray(0, T * D), W: Wqkv, dy }, {
    dW: grads.dWqkv,
    db: new Float32Array(F), // the table has no bias
  }); // [T, D]
  for (let i = 0; i < T * D; i++) grads.dW_pos[i] = grads.dW_pos[i]! + dpos[i]!;
}
