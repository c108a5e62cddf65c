/**
 * The logit lens (nostalgebraist 2020): read the answer off the residual stream after each stage
 * of the model, as if the rest of the model were skipped, through the final LayerNorm and the
 * unembedding. As nostalgebraist's, `ln_final` is recomputed on each stage's residual: its own
 * mean and scale, then `w` and `b`. An early residual is usually much smaller than the last one,
 * and only its own scale puts it where the unembedding expects; the last stage is exactly the
 * model.
 *
 * TransformerLens' `accumulated_resid(apply_ln=True)` (the `HookedTransformer` `ActivationCache`)
 * does otherwise: its `apply_ln_to_stack` centres every stage and divides it by the one cached
 * `ln_final.hook_scale`, the last residual's scale (with `ln_final`'s `w`, `b` folded into `W_U`,
 * `b_U` by `fold_ln`). That map is linear, which is what splitting the last residual into parts
 * needs (`decompose.ts` does so), but it reads an earlier stage at the last one's scale: a
 * smaller residual comes out too small, its logits squeezed toward the biases'. The two agree on
 * the last stage. Newer TransformerLens (the `TransformerBridge` cache) passes `recompute_ln` over
 * the whole stack and recomputes `ln_final` per stage, as here.
 *
 * Shape letters: S stages, B batch, D d_model, U d_vocab_out.
 *
 * @module
 */

import { layernormForward } from "../reference/mod.ts";
import { add, concat, matmul, softmax, type Tensor, tensor } from "../tensor/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { normWeights } from "../model/norm.ts";
import { checkTargets, positionOf, readF64, residAt } from "./decompose.ts";

/** What `logitLens` may be told. */
export interface LogitLensOptions {
  /** The position to read; negative counts from the end. Default -1, the last (scored) one. */
  pos?: number;
}

/** What `logitLens` returns: per stage and row, the target as the lens reads it. */
export interface LogitLens {
  /** `[S]`: `resid_pre 0`, then per layer `resid_mid l` (unless `attn_only`) and `resid_post l`. */
  labels: string[];
  /** `[S, B]`: the target's logit. */
  logit: Tensor;
  /** `[S, B]`: the target's probability (softmax over the `U` logits). */
  prob: Tensor;
  /**
   * `[S, B]` (i32): how many logits beat the target's, a tie counting against the target when the
   * other token's id is lower; 0 exactly when the argmax (lowest id on ties, as `cpuEval`) is it.
   */
  rank: Tensor;
}

/**
 * The hooks `logitLens` reads, one per stage, so a caller caches only these.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { lensHookNames } from "./logit_lens.ts";
 * lensHookNames({ ...DEFAULT_MODEL, n_layers: 1 });
 * // ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post"]
 * ```
 */
export function lensHookNames(cfg: ModelConfig): string[] {
  return lensStages(cfg).map(([, hook]) => hook);
}

/** Each stage's label and hook, in forward order. */
function lensStages(cfg: ModelConfig): [label: string, hook: string][] {
  const stages: [string, string][] = [["resid_pre 0", "blocks.0.hook_resid_pre"]];
  for (let l = 0; l < cfg.n_layers; l++) {
    if (!cfg.attn_only) stages.push([`resid_mid ${l}`, `blocks.${l}.hook_resid_mid`]);
    stages.push([`resid_post ${l}`, `blocks.${l}.hook_resid_post`]);
  }
  return stages;
}

/**
 * The logit lens at `pos` (default the last) for one target per row: each stage of the residual
 * stream (`blocks.L.hook_resid_pre|mid|post` in the cache; `lensHookNames` lists them) through
 * `ln_final` recomputed on it (with LayerNorm) and `W_U`, `b_U`. The last stage, `resid_post` of
 * the last layer, gives the model's own logits.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuForward } from "../model/cpu_forward.ts";
 * import { logitLens } from "./logit_lens.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const { cache } = cpuForward(cfg, weights, new Int32Array([3, 5, 113]), 1, { cache: true });
 * const lens = logitLens(cfg, weights, cache!, new Int32Array([8]));
 * lens.labels; // ["resid_pre 0", "resid_mid 0", "resid_post 0"]
 * lens.rank.shape; // [3, 1]
 * ```
 */
export function logitLens(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  cache: Map<string, Tensor>,
  targets: Int32Array,
  options: LogitLensOptions = {},
): LogitLens {
  const stages = lensStages(cfg);
  const first = stages[0]![1];
  const pos = positionOf(cache, options.pos ?? -1, first);
  const B = cache.get(first)!.shape[0]!; // positionOf found it
  checkTargets(cfg, targets, B);
  const W_U = readF64(weights, "unembed.W_U"); // [D, U]
  const b_U = readF64(weights, "unembed.b_U"); // [U]
  const S = stages.length;
  const [logit, prob] = [new Float64Array(S * B), new Float64Array(S * B)];
  const rank = new Int32Array(S * B);
  const norm = normWeights(cfg, (name) => readF64(weights, name), "ln_final");
  const xs = stages.map(([, hook]) => {
    const resid = residAt(cache, hook, pos); // [B, D]
    return norm === undefined
      ? resid
      : layernormForward(resid, norm.w, norm.b, { eps: norm.eps }).y;
  });
  // One product for every stage: W_U (GPT-2's is 768 × 50,257) is read once, not S times.
  const logits = add(matmul(concat(xs, 0), W_U), b_U); // [S·B, U]
  const probs = softmax(logits); // [S·B, U]
  const U = logits.shape[1]!;
  for (let i = 0; i < S * B; i++) {
    const row = logits.data.subarray(i * U, (i + 1) * U);
    const t = targets[i % B]!;
    const own = row[t]!;
    logit[i] = own;
    prob[i] = probs.data[i * U + t]!;
    // A tie counts against the target when the other id is lower, as argmax picks the lowest.
    let above = 0;
    for (let u = 0; u < U; u++) if (row[u]! > own || (row[u] === own && u < t)) above++;
    rank[i] = above;
  }
  const shape = [S, B];
  return {
    labels: stages.map(([label]) => label),
    logit: tensor(logit, shape),
    prob: tensor(prob, shape),
    rank: tensor(rank, shape),
  };
}

/**
 * A one-row `LogitLens` as the reports send it (`InspectReport.logit_lens`): plain arrays, one
 * entry per stage.
 *
 * @example
 * ```ts ignore
 * const lens = logitLens(cfg, weights, cache, Int32Array.of(8), { pos: 2 });
 * lensReport(lens).target_rank; // e.g. [40, 3, 0]
 * ```
 */
export function lensReport(lens: LogitLens): {
  labels: string[];
  target_logit: number[];
  target_prob: number[];
  target_rank: number[];
} {
  return {
    labels: lens.labels,
    target_logit: Array.from(lens.logit.data),
    target_prob: Array.from(lens.prob.data),
    target_rank: Array.from(lens.rank.data),
  };
}
