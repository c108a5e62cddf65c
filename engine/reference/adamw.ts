/**
 * AdamW with global gradient-norm clipping and a warmup / cosine learning-rate schedule, in
 * float64: the reference `kernels/adamw.wgsl` is held to, and the CPU training path. It is
 * `torch.optim.AdamW` (single-tensor, non-amsgrad) after `torch.nn.utils.clip_grad_norm_`, with
 * the schedule `torch.optim.lr_scheduler.LambdaLR` gives when `scheduler.step()` follows each
 * `optimizer.step()`, as the grokking code does (`LambdaLR(opt, lambda s: min(s / 10, 1))`).
 *
 * All of a model's parameters are one flat vector of P elements (each weight a slice of it), with
 * gradients and the moments `m`, `v` alike; the i-th element of any tensor here is the i-th
 * element of that flat vector, whatever the tensor's shape.
 *
 * Update number t (1-based; `m = v = 0` before t = 1):
 *
 *     lr_t  = lrAt(t)                                         (the schedule, below)
 *     norm  = sqrt(Σ_i grad_i²)                               (over all P elements)
 *     clip  = min(1, maxNorm / (norm + 1e-6))                 (1 without clipping)
 *     g     = clip · grad
 *     p     = p · (1 - lr_t · wd)                             (wd = 0 on the `noDecay` ranges)
 *     m     = β1 · m + (1 - β1) · g
 *     v     = β2 · v + (1 - β2) · g²
 *     p     = p - (lr_t / (1 - β1^t)) · m / (sqrt(v) / sqrt(1 - β2^t) + eps)
 *
 * Schedule, with W warmup steps (factor min((t - 1) / W, 1), so update 1 has lr 0 when W > 0;
 * W = 0 means factor 1), then constant, or cosine from `lr` at update W + 1 down to `minLr` at
 * update `total` + 1 and flat after:
 *
 *     s = t - 1                                    (the scheduler steps taken before update t)
 *     s < W:                lr_t = lr · s / W
 *     constant, s >= W:     lr_t = lr
 *     cosine,   s >= W:     lr_t = minLr + (lr - minLr) · 0.5 · (1 + cos(π · min(1, (s - W) / (total - W))))
 *
 * @module
 */

import { Tensor } from "../tensor/mod.ts";

/** The learning-rate schedule: warmup, then constant or cosine. */
export interface LrSchedule {
  /** The peak learning rate (PyTorch's default 1e-3). */
  lr?: number;
  /** Linear warmup steps W: update t has factor min((t - 1) / W, 1). Default 0 (no warmup). */
  warmup?: number;
  /** After warmup: `"constant"` (default) or `"cosine"` down to `minLr` at update `total` + 1. */
  schedule?: "constant" | "cosine";
  /** Steps the cosine schedule spans, warmup included (needed for, and only for, cosine). */
  total?: number;
  /** The cosine schedule's final learning rate. Default 0. */
  minLr?: number;
}

/** AdamW's settings: PyTorch's names and defaults, plus clipping and the schedule. */
export interface AdamWOptions extends LrSchedule {
  /** β1, the first moment's decay. Default 0.9. */
  beta1?: number;
  /** β2, the second moment's decay. Default 0.999 (the grokking code uses 0.98). */
  beta2?: number;
  /** Added to the bias-corrected sqrt(v). Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay: `p *= 1 - lr_t · weightDecay` each step. Default 0.01. */
  weightDecay?: number;
  /** Clip the global gradient norm to this (`clip_grad_norm_`); `undefined` (default): no clipping.
   * `Infinity` computes the norm without ever clipping. */
  maxNorm?: number | undefined;
  /** Element ranges `[start, end)` of the flat parameter vector exempt from weight decay. */
  noDecay?: readonly (readonly [number, number])[];
}

/** `AdamWOptions` with every default filled in and every value checked. */
export interface ResolvedAdamWOptions {
  lr: number;
  warmup: number;
  schedule: "constant" | "cosine";
  /** 0 for the constant schedule. */
  total: number;
  minLr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** `undefined`: no clipping and no norm. */
  maxNorm: number | undefined;
  noDecay: readonly (readonly [number, number])[];
}

/** What one AdamW step gives: the new tensors and the step's scalars. */
export interface AdamWStepResult {
  /** The updated parameters, shaped like the input. */
  params: Tensor;
  /** The updated first moment. */
  m: Tensor;
  /** The updated second moment. */
  v: Tensor;
  /** The learning rate this update used. */
  lr: number;
  /** The global gradient norm before clipping (0 when clipping is off). */
  norm: number;
  /** The factor the gradients were scaled by (1 when clipping is off or not needed). */
  clip: number;
}

/** The most steps a schedule can name: the GPU's step counter is a u32. */
export const MAX_STEPS = 2 ** 32 - 1;

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`adamw: ${message}`);
}

/**
 * Fills in PyTorch's defaults and checks every setting, throwing a `RangeError` that names it.
 * `size`, when given, is P: the `noDecay` ranges must lie within it.
 *
 * @example
 * ```ts
 * import { resolveAdamWOptions } from "./adamw.ts";
 * const o = resolveAdamWOptions({ lr: 1e-3, beta2: 0.98, weightDecay: 1, warmup: 10 });
 * o.beta1; // 0.9
 * o.schedule; // "constant"
 * ```
 */
export function resolveAdamWOptions(options: AdamWOptions, size?: number): ResolvedAdamWOptions {
  const o: ResolvedAdamWOptions = {
    lr: options.lr ?? 1e-3,
    warmup: options.warmup ?? 0,
    schedule: options.schedule ?? "constant",
    total: options.total ?? 0,
    minLr: options.minLr ?? 0,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? 0.01,
    maxNorm: options.maxNorm,
    noDecay: options.noDecay ?? [],
  };
  check(Number.isFinite(o.lr) && o.lr >= 0, `lr ${o.lr} must be finite and >= 0`);
  // The GPU counts steps in a u32: warmup and total must fit in one.
  check(
    Number.isInteger(o.warmup) && o.warmup >= 0 && o.warmup <= MAX_STEPS,
    `warmup ${o.warmup} must be an integer in [0, ${MAX_STEPS}]`,
  );
  check(
    o.schedule === "constant" || o.schedule === "cosine",
    `schedule "${o.schedule}" is not "constant" or "cosine"`,
  );
  if (o.schedule === "cosine") {
    check(
      Number.isInteger(o.total) && o.total > o.warmup && o.total <= MAX_STEPS,
      `cosine total ${options.total} must be an integer > warmup ${o.warmup} and <= ${MAX_STEPS}`,
    );
    check(Number.isFinite(o.minLr) && o.minLr >= 0, `minLr ${o.minLr} must be finite and >= 0`);
  }
  for (const name of ["beta1", "beta2"] as const) {
    check(o[name] >= 0 && o[name] < 1, `${name} ${o[name]} must be in [0, 1)`);
  }
  check(Number.isFinite(o.eps) && o.eps > 0, `eps ${o.eps} must be finite and > 0`);
  check(
    Number.isFinite(o.weightDecay) && o.weightDecay >= 0,
    `weightDecay ${o.weightDecay} must be finite and >= 0`,
  );
  check(o.maxNorm === undefined || o.maxNorm > 0, `maxNorm ${o.maxNorm} must be > 0`);
  for (const range of o.noDecay) {
    const [start, end] = range;
    check(
      Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end &&
        (size === undefined || end <= size),
      `noDecay range [${range}] is not within [0, ${size ?? "P"}]`,
    );
  }
  return o;
}

/**
 * The learning rate of update `t` (1-based), as `LambdaLR` gives it when `scheduler.step()`
 * follows each `optimizer.step()`: linear warmup over `warmup` steps from 0, then constant or
 * cosine down to `minLr` (see the module comment for the formula).
 *
 * @example
 * ```ts
 * import { lrAt } from "./adamw.ts";
 * lrAt(1, { lr: 1e-3, warmup: 10 }); // 0
 * lrAt(6, { lr: 1e-3, warmup: 10 }); // 5e-4
 * lrAt(11, { lr: 1e-3, warmup: 10 }); // 1e-3
 * lrAt(56, { lr: 1e-3, warmup: 10, schedule: "cosine", total: 100 }); // 5e-4, halfway down
 * ```
 */
export function lrAt(t: number, schedule: LrSchedule): number {
  const o = resolveAdamWOptions(schedule);
  check(Number.isInteger(t) && t >= 1, `update number ${t} must be an integer >= 1`);
  const s = t - 1;
  if (s < o.warmup) return o.lr * s / o.warmup;
  if (o.schedule === "constant") return o.lr;
  const progress = Math.min(1, (s - o.warmup) / (o.total - o.warmup));
  return o.minLr + (o.lr - o.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * The global L2 norm of the gradients, `sqrt(Σ g²)` over every element.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { gradNorm } from "./adamw.ts";
 * gradNorm(tensor([3, 4])); // 5
 * ```
 */
export function gradNorm(grads: Tensor): number {
  let sumsq = 0;
  for (let i = 0; i < grads.size; i++) sumsq += grads.data[i]! ** 2;
  return Math.sqrt(sumsq);
}

/**
 * What `clip_grad_norm_` scales the gradients by: `min(1, maxNorm / (norm + 1e-6))`.
 *
 * @example
 * ```ts
 * import { clipCoefficient } from "./adamw.ts";
 * clipCoefficient(10, 1); // 0.09999999000000101
 * clipCoefficient(0.5, 1); // 1
 * ```
 */
export function clipCoefficient(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * One AdamW update, number `t` (1-based), of the flat parameters `params` from `grads`, with the
 * moments `m` and `v` (zeros before update 1). Returns new tensors (the inputs are not changed),
 * the learning rate used, the gradient norm and the clip factor.
 *
 * @example
 * ```ts
 * import { tensor, zeros } from "../tensor/mod.ts";
 * import { adamwStep } from "./adamw.ts";
 * let params = tensor([1, -2, 3]);
 * let m = zeros([3]);
 * let v = zeros([3]);
 * const grads = tensor([0.5, 0.5, -1]);
 * for (let t = 1; t <= 3; t++) {
 *   ({ params, m, v } = adamwStep(params, grads, m, v, t, { lr: 0.1, maxNorm: 1, warmup: 1 }));
 * }
 * params.shape; // [3]
 * ```
 */
export function adamwStep(
  params: Tensor,
  grads: Tensor,
  m: Tensor,
  v: Tensor,
  t: number,
  options: AdamWOptions = {},
): AdamWStepResult {
  const P = params.size;
  for (const [name, x] of [["grads", grads], ["m", m], ["v", v]] as const) {
    check(x.size === P, `${name} has ${x.size} elements, params ${P}`);
  }
  const o = resolveAdamWOptions(options, P);
  const lr = lrAt(t, o);

  let norm = 0;
  let clip = 1;
  if (o.maxNorm !== undefined) {
    norm = gradNorm(grads);
    clip = clipCoefficient(norm, o.maxNorm);
  }

  const decays = new Uint8Array(P).fill(1);
  for (const [start, end] of o.noDecay) decays.fill(0, start, end);

  const bias1 = 1 - o.beta1 ** t;
  const bias2 = 1 - o.beta2 ** t;
  const stepSize = lr / bias1;
  const bias2Sqrt = Math.sqrt(bias2);

  const pOut = new Float64Array(P);
  const mOut = new Float64Array(P);
  const vOut = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    const g = grads.data[i]! * clip;
    let p = params.data[i]!;
    if (decays[i]) p *= 1 - lr * o.weightDecay;
    const mi = o.beta1 * m.data[i]! + (1 - o.beta1) * g;
    const vi = o.beta2 * v.data[i]! + (1 - o.beta2) * g * g;
    pOut[i] = p - stepSize * mi / (Math.sqrt(vi) / bias2Sqrt + o.eps);
    mOut[i] = mi;
    vOut[i] = vi;
  }
  return {
    params: new Tensor(pOut, params.shape),
    m: new Tensor(mOut, params.shape),
    v: new Tensor(vOut, params.shape),
    lr,
    norm,
    clip,
  };
}
