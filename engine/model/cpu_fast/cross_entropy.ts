/**
 * The loss at every scored position, in f32 logits and f64 sums, for the fast CPU model:
 * `Σ_{r, t scored} rowWeights[r] · (logsumexp(logits[r, t]) - logits[r, t, target])`, and its
 * gradient with respect to the logits. A target of `IGNORE` (-1) leaves its position unscored:
 * no loss and a zero gradient (the contract of `engine/data/task.ts`).
 *
 * Shape letters: B batch, T pos, U d_vocab_out.
 *
 * @module
 */

import { IGNORE } from "../../data/task.ts";

/**
 * The weighted loss and `dlogits [B, T, U]` of `logits [B, T, U]` against `targets [B, T]`.
 *
 * @example
 * ```ts
 * import { crossEntropyForward } from "./cross_entropy.ts";
 * const logits = new Float32Array([0, 0, 5, 5]); // B 1, T 2, U 2
 * const { loss, dlogits } = crossEntropyForward(logits, new Int32Array([-1, 1]), new Float64Array([1]));
 * loss; // ln 2: only position 1 is scored
 * dlogits; // Float32Array [0, 0, 0.5, -0.5]
 * ```
 */
export function crossEntropyForward(
  logits: Float32Array,
  targets: Int32Array,
  rowWeights: Float64Array,
): { loss: number; dlogits: Float32Array } {
  const BT = targets.length;
  const U = logits.length / BT;
  const T = BT / rowWeights.length;
  const dlogits = new Float32Array(logits.length);
  const exps = new Float64Array(U);
  let loss = 0;
  for (let n = 0; n < BT; n++) {
    const target = targets[n]!;
    if (target === IGNORE) continue;
    const w = rowWeights[Math.floor(n / T)]!;
    const row = n * U;
    let max = -Infinity;
    for (let u = 0; u < U; u++) max = Math.max(max, logits[row + u]!);
    let sum = 0;
    for (let u = 0; u < U; u++) sum += exps[u] = Math.exp(logits[row + u]! - max);
    loss += w * (Math.log(sum) + max - logits[row + target]!);
    for (let u = 0; u < U; u++) dlogits[row + u] = w * (exps[u]! / sum - (u === target ? 1 : 0));
  }
  return { loss, dlogits };
}
