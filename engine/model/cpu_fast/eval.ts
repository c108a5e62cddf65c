/**
 * Evaluation on the fast CPU model: the cross-entropy and whether the argmax is the target at
 * every position, forward only, in chunks of rows so that a large evaluation set keeps the
 * activations of one chunk at a time. Unscored positions (`IGNORE`) get 0 and 0, so any mean over
 * scored positions, per group or overall, is a sum of these divided by a count.
 *
 * Shape letters: B batch, T pos, U d_vocab_out.
 *
 * @module
 */

import { IGNORE } from "../../data/task.ts";
import type { ModelConfig } from "../config.ts";
import type { ParamLayout } from "../params.ts";
import { checkInputs, forwardPass, viewOf } from "./model.ts";

/** Rows per forward pass: the activations of 64 rows of 128 positions at tinygpt's size, ~40 MB. */
const CHUNK_TOKENS = 64 * 128;

/** What `fastEval` returns, per position. */
export interface FastEval {
  /** `[B, T]`: the cross-entropy at each scored position (f32 logits, f64 sums); 0 where unscored. */
  loss: Float64Array;
  /** `[B, T]`: 1 where the argmax (lowest index on ties) is the target, else 0; 0 where unscored. */
  correct: Float64Array;
}

/**
 * The loss and correctness of every position of `tokens [B, T]` against `targets [B, T]`, in
 * forward passes of `chunkTokens` tokens' whole rows (default 8,192). Each row's figures are the
 * same bits whatever the chunking, since no product mixes rows.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { fastEval } from "./eval.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const layout = paramLayout(cfg);
 * const { loss } = fastEval(cfg, layout, initParams(cfg, layout), {
 *   tokens: new Int32Array([3, 5, 113]),
 *   targets: new Int32Array([-1, -1, 8]),
 *   batch: 1,
 * });
 * loss; // [0, 0, about 4.73]
 * ```
 */
export function fastEval(
  cfg: ModelConfig,
  layout: ParamLayout,
  params: Float32Array,
  data: { tokens: Int32Array; targets: Int32Array; batch: number },
  options: { chunkTokens?: number } = {},
): FastEval {
  const T = checkInputs(cfg, layout, params, data);
  const { tokens, targets, batch: B } = data;
  const U = cfg.d_vocab_out;
  const W = (name: string) => viewOf(layout, params, name);
  const loss = new Float64Array(B * T);
  const correct = new Float64Array(B * T);
  const rows = Math.max(1, Math.floor((options.chunkTokens ?? CHUNK_TOKENS) / T));
  for (let r0 = 0; r0 < B; r0 += rows) {
    const r1 = Math.min(B, r0 + rows);
    const dims = { B: r1 - r0, T, H: cfg.n_heads, E: cfg.d_head };
    const { logits } = forwardPass(cfg, W, tokens.subarray(r0 * T, r1 * T), dims);
    for (let n = r0 * T; n < r1 * T; n++) {
      const target = targets[n]!;
      if (target === IGNORE) continue;
      const row = (n - r0 * T) * U;
      let max = -Infinity;
      let best = 0;
      for (let u = 0; u < U; u++) {
        if (logits[row + u]! > max) [max, best] = [logits[row + u]!, u];
      }
      let sum = 0;
      for (let u = 0; u < U; u++) sum += Math.exp(logits[row + u]! - max);
      loss[n] = Math.log(sum) + max - logits[row + target]!;
      correct[n] = best === target ? 1 : 0;
    }
  }
  return { loss, correct };
}
