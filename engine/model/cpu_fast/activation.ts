/**
 * The MLP's activation in f32 for the fast CPU model: the forward pass writes both `post` and the
 * derivative `d post / d pre` (what the backward reads instead of `pre`), so each element costs one
 * `exp` in all, forward and backward together (in WebAssembly SIMD, `exp_wasm.ts`).
 *
 * The exact GELU needs erf; JavaScript has none, and the reference's series
 * (`engine/reference/activation.ts`, good to 1e-15) costs a loop per element. Here erf is
 * Abramowitz and Stegun's 7.1.26, within 1.5e-7 everywhere: below f32's own rounding of `post`
 * for every input that matters.
 *
 * @module
 */

import { expRange } from "../../tensor/exp_wasm.ts";
import type { ActFn } from "../config.ts";

const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const GELU_NEW_SCALE = Math.sqrt(2 / Math.PI);
const GELU_NEW_CUBIC = 0.044715;

/**
 * `post = act(pre)` and `grad = act'(pre)`, elementwise over `pre`.
 *
 * @example
 * ```ts
 * import { activationForward } from "./activation.ts";
 * const { post, grad } = activationForward(new Float32Array([-1, 0, 2]), "relu");
 * post; // Float32Array [0, 0, 2]
 * grad; // Float32Array [0, 0, 1]
 * ```
 */
export function activationForward(
  pre: Float32Array,
  act: ActFn,
): { post: Float32Array; grad: Float32Array } {
  const post = new Float32Array(pre.length);
  const grad = new Float32Array(pre.length);
  const n = pre.length;
  if (act === "relu") {
    for (let i = 0; i < n; i++) {
      const x = pre[i]!;
      post[i] = x > 0 ? x : 0;
      grad[i] = x > 0 ? 1 : 0;
    }
  } else if (act === "gelu") {
    // e^{-(x/√2)²}, erf's and φ's exponential at once, into `grad` until it is overwritten
    for (let i = 0; i < n; i++) grad[i] = -0.5 * pre[i]! * pre[i]!;
    expRange(grad, 0, n);
    for (let i = 0; i < n; i++) {
      const x = pre[i]!;
      const e = grad[i]!;
      const cdf = 0.5 * (1 + erfWith(x * INV_SQRT_2, e));
      post[i] = x * cdf;
      grad[i] = cdf + x * INV_SQRT_2PI * e;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = pre[i]!;
      const th = Math.tanh(GELU_NEW_SCALE * (x + GELU_NEW_CUBIC * x * x * x));
      post[i] = 0.5 * x * (1 + th);
      const du = GELU_NEW_SCALE * (1 + 3 * GELU_NEW_CUBIC * x * x);
      grad[i] = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du;
    }
  }
  return { post, grad };
}

/**
 * erf(z) by Abramowitz and Stegun 7.1.26 (|error| ≤ 1.5e-7), given `e = exp(-z²)`.
 *
 * @example
 * ```ts
 * import { erfWith } from "./activation.ts";
 * erfWith(1, Math.exp(-1)); // 0.8427007... (erf 1 = 0.8427007929)
 * ```
 */
export function erfWith(z: number, e: number): number {
  const a = Math.abs(z);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const value = 1 - poly * e;
  return z < 0 ? -value : value;
}
