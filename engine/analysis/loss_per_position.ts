/**
 * Loss at every position of a sequence (TransformerLens' `loss_per_token`) and the in-context
 * learning score of Olsson et al. (2022): how much lower the loss is late in the context than
 * early, the measure whose sudden drop marks the formation of induction heads.
 *
 * The logits at position t predict the target at t (`TaskData.targets [N, n_ctx]`: token t + 1 of
 * the window for a language model), and a position whose target is `IGNORE` (any id outside
 * `[0, d_vocab_out)`) is not scored, as PyTorch's `ignore_index`.
 *
 * Shape letters: B batch, T pos, D d_model, U d_vocab_out.
 *
 * @module
 */

import { crossEntropyEval } from "../reference/mod.ts";
import { add, matmul, Tensor } from "../tensor/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { readF64, unembedHookName } from "./decompose.ts";
import type { IclScore } from "./report.ts";

/**
 * The model's logits at every position, `[B, T, U]` in float64, from what the unembedding reads in
 * the cache (`unembedHookName(cfg)`) times `W_U` plus `b_U`: the same numbers on the CPU and the
 * GPU runner, whose own logits are the last position's only.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuForward } from "../model/cpu_forward.ts";
 * import { unembedAll } from "./loss_per_position.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const { cache } = cpuForward(cfg, weights, new Int32Array([3, 5, 113]), 1, { cache: true });
 * unembedAll(cfg, weights, cache!).shape; // [1, 3, 113]
 * ```
 */
export function unembedAll(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  cache: Map<string, Tensor>,
): Tensor {
  const x = readF64(cache, unembedHookName(cfg)); // [B, T, D]
  return add(matmul(x, readF64(weights, "unembed.W_U")), readF64(weights, "unembed.b_U"));
}

/** What `lossPerToken` returns: `[B * T]` each, NaN where the target is not scored. */
export interface TokenScores {
  /** The cross-entropy (natural log) at each position. */
  loss: Float64Array;
  /** 1 where the argmax (lowest id on ties) is the target, else 0. */
  correct: Float64Array;
}

/**
 * `[B * T]`: the cross-entropy (natural log) of the logits at each position against its target,
 * and whether the argmax is it, NaN where the target is not scored (`IGNORE`, or any id outside
 * `[0, U)`): TransformerLens' `loss_per_token`, which is this with `targets[b, t] = tokens[b, t + 1]`.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { lossPerToken } from "./loss_per_position.ts";
 * const logits = tensor([0, 0, Math.log(3), 0], [1, 2, 2]); // [B 1, T 2, U 2]
 * lossPerToken(logits, Int32Array.of(1, -1)).loss; // Float64Array [ln 2, NaN]
 * ```
 */
export function lossPerToken(logits: Tensor, targets: Int32Array): TokenScores {
  if (logits.ndim !== 3) {
    throw new RangeError(`lossPerToken: logits [${logits.shape}], not [B, T, U]`);
  }
  const [B, T, U] = logits.shape as [number, number, number];
  if (targets.length !== B * T) {
    throw new RangeError(`lossPerToken: ${targets.length} targets for logits [${B}, ${T}, ${U}]`);
  }
  const rows = logits.reshape([B * T, U]);
  const { loss, correct } = crossEntropyEval(rows, new Tensor(targets, [B * T]));
  const scored = (r: number) => targets[r]! >= 0 && targets[r]! < U;
  return {
    loss: Float64Array.from(loss.data, (l, r) => scored(r) ? l : NaN),
    correct: Float64Array.from(correct.data, (c, r) => scored(r) ? c : NaN),
  };
}

/**
 * `[T]`: the mean over rows of `loss` (`[B * T]`, NaN where unscored) at each position, `null`
 * where no row is scored there.
 *
 * @example
 * ```ts
 * import { meanPerPosition } from "./loss_per_position.ts";
 * meanPerPosition(Float64Array.of(1, NaN, 3, 4), 2); // [2, 4]: rows (1, NaN) and (3, 4)
 * ```
 */
export function meanPerPosition(loss: Float64Array, T: number): (number | null)[] {
  const sum = new Float64Array(T);
  const count = new Float64Array(T);
  loss.forEach((l, i) => {
    if (Number.isNaN(l)) return;
    sum[i % T] = sum[i % T]! + l;
    count[i % T] = count[i % T]! + 1;
  });
  return Array.from(sum, (s, t) => count[t]! > 0 ? s / count[t]! : null);
}

/**
 * The positions the in-context-learning score compares in a context of `T`: Olsson et al.'s 500th
 * and 50th tokens (0-based positions 499 and 49) when the context reaches 500, else the last
 * position and a tenth of it (rounded down), the same 10 : 1 ratio scaled to a short context
 * (T = 128: 127 and 12; T = 20: 19 and 1). `null` below T = 2.
 *
 * @example
 * ```ts
 * import { iclPositions } from "./loss_per_position.ts";
 * iclPositions(1024); // { early: 49, late: 499 }
 * iclPositions(128); // { early: 12, late: 127 }
 * ```
 */
export function iclPositions(T: number): { early: number; late: number } | null {
  if (!(T >= 2)) return null;
  const late = Math.min(499, T - 1);
  return { early: Math.floor(late / 10), late };
}

/**
 * The in-context-learning score of a loss-per-position curve (`meanPerPosition`'s): loss at
 * `iclPositions`' late position minus at its early one, in the context up to the last scored
 * position (a repeated-tokens row's last token predicts nothing); `null` when either is unscored
 * (a classification task scored at its answer only).
 *
 * @example
 * ```ts
 * import { iclScore } from "./loss_per_position.ts";
 * iclScore([4, 3, 2, 1]); // { early: 0, late: 3, score: -3 }
 * iclScore([4, 3, 2, 1, null]); // the same: position 4 is unscored
 * ```
 */
export function iclScore(perPosition: readonly (number | null)[]): IclScore | null {
  const at = iclPositions(perPosition.findLastIndex((v) => v !== null) + 1);
  if (at === null) return null;
  const [early, late] = [perPosition[at.early], perPosition[at.late]];
  if (early === null || early === undefined || late === null || late === undefined) return null;
  return { ...at, score: late - early };
}
