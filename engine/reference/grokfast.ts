/**
 * Grokfast-EMA (Lee et al. 2024, "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"),
 * in float64: the reference `kernels/grokfast.wgsl` is held to, and the CPU training path's filter.
 * It is the paper's released `gradfilter_ema`, called after `loss.backward()` and before the
 * optimiser (so clipping, when on, sees the filtered gradient, and AdamW's moments are built from it):
 *
 *     ema  = grad                            at update t = 1 (the paper's code starts the EMA there)
 *     ema  = α · ema + (1 - α) · grad        at every later update
 *     grad = grad + λ · ema
 *
 * over the same flat [P] parameter vector as `adamw.ts`. The EMA is optimiser state: it is kept
 * beside AdamW's moments between steps and saved with them, so a resumed run goes on exactly.
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";

/** Grokfast-EMA's two settings, the paper's names. */
export interface GrokfastOptions {
  /** α, the EMA's factor, in [0, 1): 0.98 in the paper's modular-arithmetic runs. */
  alpha: number;
  /** λ, how much of the EMA (the slow gradient) is added: >= 0; the paper uses 2 to 5. */
  lambda: number;
}

/**
 * Checks Grokfast's settings; a one-line `RangeError` naming the bad one.
 *
 * @example
 * ```ts
 * import { checkGrokfastOptions } from "./grokfast.ts";
 * checkGrokfastOptions({ alpha: 0.98, lambda: 2 }); // passes
 * try { checkGrokfastOptions({ alpha: 1, lambda: 2 }); } catch (e) { (e as Error).message; }
 * // "grokfast: alpha 1 must be in [0, 1)"
 * ```
 */
export function checkGrokfastOptions(o: GrokfastOptions): void {
  if (!(Number.isFinite(o.alpha) && o.alpha >= 0 && o.alpha < 1)) {
    throw new RangeError(`grokfast: alpha ${o.alpha} must be in [0, 1)`);
  }
  if (!(Number.isFinite(o.lambda) && o.lambda >= 0)) {
    throw new RangeError(`grokfast: lambda ${o.lambda} must be finite and >= 0`);
  }
}

/**
 * One Grokfast-EMA filter at update `t` (1-based, AdamW's count): the new EMA and the gradient
 * AdamW is given. Returns new tensors (the inputs are not changed).
 *
 * @example
 * ```ts
 * import { tensor, zeros } from "../tensor/mod.ts";
 * import { grokfastStep } from "./grokfast.ts";
 * const first = grokfastStep(tensor([1, -2]), zeros([2]), 1, { alpha: 0.5, lambda: 2 });
 * first.ema.toArray(); // Float64Array [1, -2]: the first gradient
 * first.grads.toArray(); // Float64Array [3, -6]: g + 2 · g
 * const next = grokfastStep(tensor([3, 0]), first.ema, 2, { alpha: 0.5, lambda: 2 });
 * next.ema.toArray(); // Float64Array [2, -1]
 * next.grads.toArray(); // Float64Array [7, -2]
 * ```
 */
export function grokfastStep(
  grads: Tensor,
  ema: Tensor,
  t: number,
  options: GrokfastOptions,
): { grads: Tensor; ema: Tensor } {
  checkGrokfastOptions(options);
  if (ema.size !== grads.size) {
    throw new RangeError(`grokfast: ema has ${ema.size} elements, grads ${grads.size}`);
  }
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`grokfast: update ${t} must be >= 1`);
  const { alpha, lambda } = options;
  const P = grads.size;
  const eOut = new Float64Array(P);
  const gOut = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const g = grads.data[i]!;
    const e = t === 1 ? g : alpha * ema.data[i]! + (1 - alpha) * g;
    eOut[i] = e;
    gOut[i] = g + lambda * e;
  }
  return { grads: new Tensor(gOut, grads.shape), ema: new Tensor(eOut, grads.shape) };
}
