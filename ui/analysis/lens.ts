/**
 * The logit lens's readouts: what each stage's bar says on hover, and the stage from which the
 * target stays the model's top prediction. Pure, so tests import it.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import type { InspectReport } from "../types.ts";

/** `InspectReport.logit_lens`: the target read off the residual stream after each stage. */
export type LogitLens = InspectReport["logit_lens"];

/**
 * One line per stage: the target's probability, logit and rank (0 = the top logit).
 *
 * @example
 * ```ts
 * import { lensTitles } from "./lens.ts";
 * lensTitles({
 *   labels: ["resid_pre 0", "resid_post 0"], target_prob: [0.01, 0.9], target_logit: [0.2, 8],
 *   target_rank: [12, 0],
 * });
 * // ["resid_pre 0: p = 0.01, logit 0.2, rank 12", "resid_post 0: p = 0.9, logit 8, rank 0"]
 * ```
 */
export function lensTitles(lens: LogitLens): string[] {
  return lens.labels.map((label, i) =>
    `${label}: p = ${formatNumber(lens.target_prob[i] ?? NaN)}, logit ${
      formatNumber(lens.target_logit[i] ?? NaN)
    }, rank ${lens.target_rank[i] ?? "?"}`
  );
}

/**
 * The first stage from which the target is the top logit (rank 0) at every later stage, or `null`
 * when the last stage does not rank it first: where in the model the answer is settled.
 *
 * @example
 * ```ts
 * import { topFrom } from "./lens.ts";
 * topFrom([7, 0, 0]); // 1
 * topFrom([0, 3, 0]); // 2: a lead lost at stage 1 does not count
 * topFrom([0, 0, 2]); // null
 * ```
 */
export function topFrom(ranks: readonly number[]): number | null {
  let from: number | null = null;
  for (let i = ranks.length - 1; i >= 0 && ranks[i] === 0; i--) from = i;
  return from;
}
