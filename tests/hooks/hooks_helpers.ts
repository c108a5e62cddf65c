/**
 * What the hook, patching and GPU model tests share: tiny configs, random weights that carry
 * signal through every path (biases and LayerNorm parameters included, rounded to f32 so the GPU
 * holds the same values), random tokens, and exact comparison (NaN-free, -Infinity-aware).
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import { DEFAULT_MODEL, type ModelConfig } from "../../engine/model/config.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { type Rng, Tensor } from "../../engine/tensor/mod.ts";

/** A model small enough to run often, with sizes off every tile. */
export const TINY: ModelConfig = {
  ...DEFAULT_MODEL,
  n_layers: 1,
  d_model: 12,
  d_head: 5,
  n_heads: 3,
  d_mlp: 19,
  d_vocab: 11,
  d_vocab_out: 9,
  n_ctx: 3,
  initializer_range: 0.5,
  trainable_biases: "all",
};

/** Random weights of `cfg`, f32-representable. */
export function randomWeights(cfg: ModelConfig, rng: Rng): Map<string, Tensor> {
  const weights = new Map<string, Tensor>();
  for (const s of paramLayout(cfg).specs) {
    const scale = s.init === "normal" ? 0.5 : 0.2;
    const data = Float64Array.from(
      { length: s.size },
      () => Math.fround(scale * rng.normal() + (s.init === "ones" ? 1 : 0)),
    );
    weights.set(s.name, new Tensor(data, s.shape));
  }
  return weights;
}

/** `batch` rows of `cfg.n_ctx` random token ids. */
export function randomTokens(cfg: ModelConfig, batch: number, rng: Rng): Int32Array {
  return Int32Array.from({ length: batch * cfg.n_ctx }, () => rng.int(cfg.d_vocab));
}

/** Asserts `actual` and `expected` hold the same numbers bit for bit (and the same shape). */
export function assertSame(actual: Tensor, expected: Tensor, what: string): void {
  const same = actual.shape.join() === expected.shape.join() &&
    actual.data.every((x, i) => Object.is(x, expected.data[i]));
  if (!same) throw new AssertionError({ message: `${what}: not bit for bit the same` });
}
