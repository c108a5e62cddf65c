/**
 * Which LayerNorm a model has, and its `w` and `b`: the one place the forward paths (float64, f32
 * CPU, sampling) and the analyses ask. `LN` reads `prefix.w`, `prefix.b` from the weights;
 * TransformerLens' `LNPre` (normalise only: the weights were folded into what reads it) is the same
 * arithmetic with `w` = 1 and `b` = 0, so every LayerNorm kernel serves it unchanged.
 *
 * @module
 */

import { ones, type Tensor, zeros } from "../tensor/mod.ts";
import type { ModelConfig } from "./config.ts";
import type { LayerNormParams } from "./cpu_fast/layernorm.ts";

/**
 * Whether the model normalises before attention, the MLP and the unembedding (`LN` or `LNPre`).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { hasNorm } from "./norm.ts";
 * [hasNorm(DEFAULT_MODEL), hasNorm({ ...DEFAULT_MODEL, normalization_type: "LNPre" })]; // [false, true]
 * ```
 */
export function hasNorm(cfg: Pick<ModelConfig, "normalization_type">): boolean {
  return cfg.normalization_type !== null;
}

/**
 * LayerNorm `prefix`'s `w` and `b` `[D]` as float64 tensors, and the model's `eps`: the weights'
 * with `LN`, ones and zeros with `LNPre`, undefined without LayerNorm.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { normWeights } from "./norm.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 2, normalization_type: "LNPre" as const };
 * normWeights(cfg, () => { throw new Error("not read"); }, "ln_final")?.w.toArray(); // [1, 1]
 * ```
 */
export function normWeights(
  cfg: Pick<ModelConfig, "normalization_type" | "d_model" | "eps">,
  W: (name: string) => Tensor,
  prefix: string,
): { w: Tensor; b: Tensor; eps: number } | undefined {
  if (cfg.normalization_type === null) return undefined;
  const { eps } = cfg;
  if (cfg.normalization_type === "LN") return { w: W(`${prefix}.w`), b: W(`${prefix}.b`), eps };
  return { w: ones([cfg.d_model]), b: zeros([cfg.d_model]), eps };
}

/**
 * LayerNorm `prefix`'s `w` and `b` `[D]` as f32 arrays (the f32 CPU model and the cached sampler),
 * and `eps`: as `normWeights`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { normArrays } from "./norm.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 2, normalization_type: "LNPre" as const };
 * normArrays(cfg, () => new Float32Array(2), "blocks.0.ln1")?.b; // Float32Array [0, 0]
 * ```
 */
export function normArrays(
  cfg: Pick<ModelConfig, "normalization_type" | "d_model" | "eps">,
  W: (name: string) => Float32Array,
  prefix: string,
): LayerNormParams | undefined {
  if (cfg.normalization_type === null) return undefined;
  const { eps } = cfg;
  if (cfg.normalization_type === "LN") return { w: W(`${prefix}.w`), b: W(`${prefix}.b`), eps };
  return { w: new Float32Array(cfg.d_model).fill(1), b: new Float32Array(cfg.d_model), eps };
}
