/**
 * Small models for the analysis tests: configs covering the grokking shape, LayerNorm with GELU
 * and attention-only, with every weight (biases and LayerNorm weights included) drawn at random
 * so that no term of a decomposition can hide behind a zero or a one.
 *
 * @module
 */

import { DEFAULT_MODEL, type ModelConfig } from "../../engine/model/config.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { Rng, Tensor } from "../../engine/tensor/mod.ts";

/** The grokking model's shape, small: 1 layer, ReLU, no LayerNorm, p = 7. */
export const GROKKING_SMALL: ModelConfig = {
  ...DEFAULT_MODEL,
  d_model: 12,
  d_head: 3,
  n_heads: 4,
  d_mlp: 24,
  d_vocab: 8,
  d_vocab_out: 7,
};

/** 2 layers, GELU, LayerNorm. */
export const GELU_LN: ModelConfig = {
  ...GROKKING_SMALL,
  n_layers: 2,
  n_heads: 2,
  d_head: 5,
  act_fn: "gelu",
  normalization_type: "LN",
  n_ctx: 5,
  d_vocab: 11,
  d_vocab_out: 9,
};

/** 2 layers, attention only, LayerNorm (the out-of-context model's shape). */
export const ATTN_ONLY_LN: ModelConfig = { ...GELU_LN, attn_only: true, n_heads: 3 };

/** 2 layers, attention only, no LayerNorm: each last-layer head acts on the logits linearly. */
export const ATTN_ONLY: ModelConfig = { ...ATTN_ONLY_LN, normalization_type: null };

/** Every weight of `cfg` from normal(0, 0.5), LayerNorm weights around 1, seeded. */
export function randomWeights(cfg: ModelConfig, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const spec of paramLayout(cfg).specs) {
    const offset = /ln.*\.w$/.test(spec.name) ? 1 : 0;
    const data = Float64Array.from({ length: spec.size }, () => offset + 0.5 * rng.normal());
    out.set(spec.name, new Tensor(data, spec.shape));
  }
  return out;
}

/** `batch` rows of `pos` random tokens of `cfg`'s vocabulary, seeded. */
export function randomTokens(cfg: ModelConfig, batch: number, pos: number, seed: number) {
  const rng = new Rng(seed);
  return Int32Array.from({ length: batch * pos }, () => rng.nextUint32() % cfg.d_vocab);
}

/** The hand-built model's sizes: positions, tokens, then "previous token" dims in the stream. */
const HAND = { T: 8, V: 6, E: 8 };

/**
 * A 2-layer attention-only model without LayerNorm whose heads are known by construction (d_model
 * = T + 2V: a one-hot position, a one-hot token, and a "previous token" subspace):
 *
 * - L0H0 attends to the previous position (position 0 to itself) and copies that token into the
 *   previous-token subspace: a previous-token head;
 * - L1H0 attends, from a token, to the position after an earlier occurrence of it (the key whose
 *   previous-token subspace holds the query's token), never to position 0 unless nothing else
 *   is left: an induction head by K-composition;
 * - L0H1 and L1H1 have all-zero weights: uniform attention over the positions so far.
 *
 * Scores gap by `big` / √d_head ≈ 3,500, so every softmax weight is 1, 0 or 1/n exactly in
 * float64 (e^-3500 underflows to 0). The unembedding is zero.
 */
export function handBuiltInduction(big = 1e4): { cfg: ModelConfig; weights: Map<string, Tensor> } {
  const { T, V, E } = HAND;
  const cfg: ModelConfig = {
    ...DEFAULT_MODEL,
    n_layers: 2,
    n_heads: 2,
    d_head: E,
    d_model: T + 2 * V,
    d_vocab: V,
    d_vocab_out: V,
    n_ctx: T,
    attn_only: true,
    normalization_type: null,
  };
  const weights = new Map<string, Tensor>();
  for (const spec of paramLayout(cfg).specs) {
    weights.set(spec.name, new Tensor(new Float64Array(spec.size), spec.shape));
  }
  const set = (name: string, index: number[], value: number) => {
    const t = weights.get(name)!;
    let flat = 0;
    index.forEach((i, a) => flat = flat * t.shape[a]! + i);
    t.data[flat] = value;
  };
  const [tok, prev] = [T, T + V]; // where the token and previous-token subspaces start
  for (let v = 0; v < V; v++) set("embed.W_E", [v, tok + v], 1);
  for (let t = 0; t < T; t++) set("pos_embed.W_pos", [t, t], 1);
  // L0H0: q = big · onehot(t), k = onehot(s + 1): score big at s = t - 1; value the token, written
  // to the previous-token subspace.
  for (let t = 0; t < T; t++) set("blocks.0.attn.W_Q", [0, t, t], big);
  for (let s = 0; s + 1 < E; s++) set("blocks.0.attn.W_K", [0, s, s + 1], 1);
  for (let v = 0; v < V; v++) {
    set("blocks.0.attn.W_V", [0, tok + v, v], 1);
    set("blocks.0.attn.W_O", [0, v, prev + v], 1);
  }
  // L1H0: q = big · onehot(token) and 1 in the last dim; k = the previous-token subspace and
  // -big in the last dim at position 0: score big where prev[s] = token[t], -big at s = 0.
  for (let v = 0; v < V; v++) {
    set("blocks.1.attn.W_Q", [0, tok + v, v], big);
    set("blocks.1.attn.W_K", [0, prev + v, v], 1);
  }
  for (let t = 0; t < T; t++) set("blocks.1.attn.W_Q", [0, t, E - 1], 1);
  set("blocks.1.attn.W_K", [0, 0, E - 1], -big);
  return { cfg, weights };
}
