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
