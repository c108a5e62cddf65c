/**
 * The fast CPU model: the transformer's loss at every scored position and its gradients in f32,
 * on the WebAssembly SIMD GEMM, on one thread (`fastLossAndGrads`, `fastEval`) or a worker per
 * core (`CpuWorkers`). `engine/model/cpu_model.ts` stays the float64 reference it is tested against
 * (tests/model/cpu_fast.test.ts).
 *
 * @module
 */

import type { ModelConfig } from "../config.ts";
import { flatten, paramLayout } from "../params.ts";
import { Tensor } from "../../tensor/mod.ts";
import { fastLossAndGrads } from "./model.ts";

export { type FastLossAndGrads, fastLossAndGrads } from "./model.ts";
export { type FastEval, fastEval } from "./eval.ts";
export { CpuWorkers, type FastBatch } from "./workers.ts";

/**
 * `cpuLossAndGrads`' inputs and outputs on the fast model: named weights in, named f64 gradient
 * tensors and `[B, T, U]` logits out, with `targets [B, T]` (IGNORE = -1 where unscored) and
 * `rowWeights [B]` the weight of each scored position of row r. For tests and tools; a trainer
 * keeps the flat arrays of `fastLossAndGrads`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout, unflatten } from "../params.ts";
 * import { cpuFastLossAndGrads } from "./mod.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const tokens = new Int32Array([3, 5, 113, 7, 1, 113]);
 * const targets = new Int32Array([-1, -1, 8, -1, -1, 8]);
 * const { loss } = cpuFastLossAndGrads(cfg, weights, tokens, targets, new Float64Array([0.5, 0.5]), 2);
 * loss; // about ln 113 = 4.73 at initialisation
 * ```
 */
export function cpuFastLossAndGrads(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  tokens: Int32Array,
  targets: Int32Array,
  rowWeights: Float64Array,
  batch: number,
): { loss: number; grads: Map<string, Tensor>; logits: Tensor } {
  const layout = paramLayout(cfg);
  const { loss, grads, logits } = fastLossAndGrads(cfg, layout, flatten(layout, weights), {
    tokens,
    targets,
    rowWeights,
    batch,
  });
  const named = new Map<string, Tensor>();
  for (const spec of layout.specs) {
    const g = Float64Array.from(grads.subarray(spec.offset, spec.offset + spec.size));
    named.set(spec.name, new Tensor(g, spec.shape));
  }
  const T = tokens.length / batch;
  return { loss, grads: named, logits: new Tensor(logits, [batch, T, cfg.d_vocab_out]) };
}
