/**
 * The MLP's activation in float64, forward and backward: TransformerLens' `act_fn`, mapping
 * `mlp.hook_pre` to `mlp.hook_post` elementwise. Three functions:
 *
 * - `relu`: max(x, 0); its derivative at exactly 0 is 0, as PyTorch's.
 * - `gelu`: the exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch's `F.gelu`).
 * - `gelu_new`: GPT-2's tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *
 * JavaScript has no `erf`, so this module carries one accurate to about 1e-15 (a few ulps of
 * float64; series below 2.5, continued fraction above), tested against known values. This is the
 * reference `kernels/activation.wgsl` is held to, and the CPU training path.
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";

/** An MLP activation, named as TransformerLens' `cfg.act_fn`. */
export type Activation = "relu" | "gelu" | "gelu_new";

/** Every activation, in a fixed order. */
export const ACTIVATIONS: readonly Activation[] = ["relu", "gelu", "gelu_new"];

/** Which activation to apply. */
export interface ActivationOptions {
  act: Activation;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** √(2/π), the scale inside GPT-2's tanh GELU. */
const GELU_NEW_SCALE = Math.sqrt(2 / Math.PI);
const GELU_NEW_CUBIC = 0.044715;

/** Where `erf` switches from its series to the continued fraction of `erfc`. */
const SERIES_LIMIT = 2.5;

/**
 * erf(x) for 0 ≤ x < 2.5 by the series 2/√π·x·e^{-x²}·Σ (2x²)^n / (1·3·…·(2n+1)), whose terms are
 * all positive, so nothing cancels (about 40 terms at 2.5).
 */
function erfSeries(x: number): number {
  const twoX2 = 2 * x * x;
  let term = 1;
  let total = 1;
  for (let n = 1; term > 1e-17 * total; n++) {
    term *= twoX2 / (2 * n + 1);
    total += term;
  }
  return TWO_OVER_SQRT_PI * x * Math.exp(-x * x) * total;
}

/**
 * erfc(x) for x ≥ 2.5 by the continued fraction e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
 * evaluated from 60 levels down: converged to float64 rounding from x = 2.5 on.
 */
function erfcContinuedFraction(x: number): number {
  if (x > 27) return 0; // e^{-x²} underflows
  let f = x;
  for (let n = 60; n >= 1; n--) f = x + n / 2 / f;
  return INV_SQRT_PI * Math.exp(-x * x) / f;
}

/**
 * The error function in float64, within about 1e-15 (at most ~10 ulps near 1; checked against
 * known values).
 *
 * @example
 * ```ts
 * import { erf } from "./activation.ts";
 * erf(1); // 0.842700792949715 (exactly 0.84270079294971486…)
 * erf(-0.5); // -0.5204998778130466 (exactly -0.52049987781304654…)
 * ```
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  const value = a < SERIES_LIMIT ? erfSeries(a) : 1 - erfcContinuedFraction(a);
  return x < 0 ? -value : value;
}

/**
 * The complementary error function 1 − erf(x) in float64, accurate relative to its value in the
 * upper tail (x ≥ 2.5), where `1 - erf(x)` would lose every digit.
 *
 * @example
 * ```ts
 * import { erfc } from "./activation.ts";
 * erfc(5); // 1.537459794428035e-12
 * erfc(-1); // 1.842700792949715
 * ```
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= SERIES_LIMIT) return erfcContinuedFraction(x);
  if (x > -SERIES_LIMIT) return 1 - erf(x);
  return 2 - erfcContinuedFraction(-x);
}

/** Φ(x), the standard normal CDF, accurate in the lower tail: 0.5·erfc(−x/√2). */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x * INV_SQRT_2);
}

/** φ(x), the standard normal density. */
function normalPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * One activation at one point: `post` from `pre`.
 *
 * @example
 * ```ts
 * import { activate } from "./activation.ts";
 * activate(-2, "relu"); // 0
 * activate(1, "gelu"); // 0.8413447460685429
 * activate(1, "gelu_new"); // 0.8411919906082768
 * ```
 */
export function activate(x: number, act: Activation): number {
  switch (act) {
    case "relu":
      return Math.max(x, 0); // NaN stays NaN, as in PyTorch
    case "gelu":
      return x * normalCdf(x);
    case "gelu_new": {
      const u = GELU_NEW_SCALE * (x + GELU_NEW_CUBIC * x * x * x);
      return 0.5 * x * (1 + Math.tanh(u));
    }
  }
}

/**
 * The derivative d post / d pre of one activation at one point. ReLU's is 0 at exactly 0
 * (PyTorch's choice).
 *
 * @example
 * ```ts
 * import { activateGrad } from "./activation.ts";
 * activateGrad(0, "relu"); // 0
 * activateGrad(0, "gelu"); // 0.5
 * activateGrad(0, "gelu_new"); // 0.5
 * ```
 */
export function activateGrad(x: number, act: Activation): number {
  switch (act) {
    case "relu":
      return x > 0 ? 1 : 0;
    case "gelu":
      // d/dx x·Φ(x) = Φ(x) + x·φ(x)
      return normalCdf(x) + x * normalPdf(x);
    case "gelu_new": {
      // d/dx 0.5·x·(1 + tanh u) = 0.5·(1 + tanh u) + 0.5·x·sech²u·du/dx
      const u = GELU_NEW_SCALE * (x + GELU_NEW_CUBIC * x * x * x);
      const half = 0.5 * (1 + Math.tanh(u));
      const sech = 1 / Math.cosh(u);
      if (sech === 0) return half; // saturated: the second term is 0 (and x³ may be infinite)
      const du = GELU_NEW_SCALE * (1 + 3 * GELU_NEW_CUBIC * x * x);
      return half + 0.5 * x * sech * sech * du;
    }
  }
}

/**
 * The activation's forward pass, elementwise: `post = act(pre)` (`mlp.hook_pre` to
 * `mlp.hook_post`), in float64 whatever `pre`'s dtype.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { activationForward } from "./activation.ts";
 * const post = activationForward(tensor([-1, 0, 2], [3]), { act: "relu" });
 * post.toArray(); // Float64Array [0, 0, 2]
 * ```
 */
export function activationForward(pre: Tensor, options: ActivationOptions): Tensor {
  const post = new Float64Array(pre.size);
  for (let i = 0; i < pre.size; i++) post[i] = activate(pre.data[i]!, options.act);
  return new Tensor(post, pre.shape);
}

/**
 * The activation's backward pass, elementwise: `dpre = act'(pre) · dpost`.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { activationBackward } from "./activation.ts";
 * const dpre = activationBackward(tensor([-1, 0, 2], [3]), tensor([5, 5, 5], [3]), { act: "relu" });
 * dpre.toArray(); // Float64Array [0, 0, 5]
 * ```
 */
export function activationBackward(
  pre: Tensor,
  dpost: Tensor,
  options: ActivationOptions,
): Tensor {
  if (pre.shape.join() !== dpost.shape.join()) {
    throw new RangeError(
      `activation_backward: dpost has shape [${dpost.shape}], expected [${pre.shape}]`,
    );
  }
  const dpre = new Float64Array(pre.size);
  for (let i = 0; i < pre.size; i++) {
    dpre[i] = activateGrad(pre.data[i]!, options.act) * dpost.data[i]!;
  }
  return new Tensor(dpre, pre.shape);
}
