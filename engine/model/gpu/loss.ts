/**
 * The cross-entropy loss at the scored positions (S rows: `context.ts`; a target `IGNORE` scores
 * nothing). Its backward has no dispatches of its own: when
 * training, the forward kernel writes the logits' gradient as it computes the loss. Shape letters:
 * `context.ts`.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { crossEntropyEval, crossEntropyForward } from "../../../kernels/mod.ts";
import type { ModelContext } from "./context.ts";

/** The loss's buffers; which are defined depends on whether the model trains. */
export interface Loss {
  /** `[S]`: each scored row's cross-entropy (natural log; 0 where the target is `IGNORE`). */
  loss: GpuTensor;
  /** `[S]`, evaluation only: 1 where the argmax is the target. */
  correct: GpuTensor | undefined;
  /** `[B]`, training only: the weight of each example's scored positions, written by the caller. */
  rowWeights: GpuTensor | undefined;
  /** `[S, U]`, training only: the weighted loss's gradient with respect to the logits. */
  dlogits: GpuTensor | undefined;
}

/**
 * The loss of `logits` `[S, U]` against `targets` `[S]` i32: fused with its gradient when
 * training, with accuracy when evaluating.
 *
 * @example
 * ```ts ignore
 * const { loss, dlogits } = await loss.forward(c, { logits, targets });
 * ```
 */
export async function forward(
  c: ModelContext,
  inputs: { logits: GpuTensor; targets: GpuTensor },
): Promise<Loss> {
  const loss = c.fresh([c.S]);
  if (!c.training) {
    const correct = c.fresh([c.S]);
    await c.fwd(crossEntropyEval(c.gpu, inputs, { loss, correct }));
    return { loss, correct, rowWeights: undefined, dlogits: undefined };
  }
  const rowWeights = c.fresh([c.B]);
  const dlogits = c.fresh([c.S, c.U]);
  await c.fwd(crossEntropyForward(c.gpu, { ...inputs, weights: rowWeights }, { loss, dlogits }));
  return { loss, correct: undefined, rowWeights, dlogits };
}
