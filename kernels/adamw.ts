/**
 * Launchers for `adamw.wgsl`: one AdamW step over all of a model's parameters, laid end to end in
 * one flat f32 buffer (`params [P]`, with `grads`, `m`, `v` alike), with global gradient-norm
 * clipping and a warmup / cosine learning-rate schedule. The step counter lives on the GPU in a
 * small `state` tensor, so one `gpu.run(dispatches, { repeat: k })` makes k updates with no CPU
 * round trip. The float64 reference, and the formulas, are `engine/reference/adamw.ts`.
 *
 * `state` is `[8]` words (`ADAMW_STATE_SIZE`), zeros before the first step:
 *
 *     [0] t: the updates done so far (u32)   [1] lr_t: the learning rate update t used (f32)
 *     [2] the global gradient norm (f32; 0 without clipping)
 *     [3] clip: the factor the gradients were scaled by (f32; 1 without clipping)
 *     [4] 1 - β1^t (f32)   [5] 1 - β2^t (f32)   [6], [7] unused
 *
 * `readAdamWState` decodes it from a read-back tensor.
 *
 * @module
 */

import source from "./adamw.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import { type AdamWOptions, resolveAdamWOptions } from "../engine/reference/adamw.ts";
import type { Tensor } from "../engine/tensor/mod.ts";

/** The words of AdamW's GPU `state` tensor. */
export const ADAMW_STATE_SIZE = 8;

/** The most partial sums of squares `grad_sumsq` writes (its workgroups). */
const MAX_PARTIALS = 1024;
const WG = 256;

/** The tensors one AdamW step reads and writes; all but `state` have `params`' shape. */
export interface AdamWTensors {
  /** The flat parameters, updated in place. */
  params: GpuTensor;
  /** Their gradients (read only: clipping scales them on the fly). */
  grads: GpuTensor;
  /** The first moment (zeros before the first step). */
  m: GpuTensor;
  /** The second moment (zeros before the first step). */
  v: GpuTensor;
  /** `[ADAMW_STATE_SIZE]`: the step counter and the step's scalars (zeros before the first). */
  state: GpuTensor;
}

/** The optimizer's GPU state, as `adamwBuffers` creates it. */
export interface AdamWBuffers {
  m: GpuTensor;
  v: GpuTensor;
  state: GpuTensor;
}

/** `state` decoded: what the last update did. */
export interface AdamWState {
  /** Updates done so far. */
  t: number;
  /** The learning rate of update t. */
  lr: number;
  /** The global gradient norm of update t (0 without clipping). */
  norm: number;
  /** The factor update t scaled the gradients by. */
  clip: number;
  /** 1 - β1^t. */
  biasCorrection1: number;
  /** 1 - β2^t. */
  biasCorrection2: number;
}

/**
 * `x` as a WGSL float literal (never an integer literal), or a RangeError naming `name`; the
 * optimiser kernels (AdamW, Grokfast) bake their settings in with it.
 *
 * @example
 * ```ts
 * import { f32Literal } from "./adamw.ts";
 * f32Literal(1, "adamw: lr"); // "1.0"
 * f32Literal(1e-3, "adamw: lr"); // "0.001"
 * ```
 */
export function f32Literal(x: number, name: string): string {
  if (!Number.isFinite(x) || Math.abs(x) > 3.4e38) {
    throw new RangeError(`${name} ${x} is not a finite f32`);
  }
  const text = String(x);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** The WGSL test for "element i is exempt from weight decay", or `false`. */
function noDecayExpression(ranges: readonly (readonly [number, number])[]): string {
  const terms = [...ranges]
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0])
    .map(([start, end]) => `(i >= ${start}u && i < ${end}u)`);
  return terms.length === 0 ? "false" : terms.join(" || ");
}

/**
 * The dispatches of one AdamW step over the flat `params`: the gradient norm in fixed-order
 * partial sums (`grad_sumsq`, only with `maxNorm`), the step counter, schedule and clip factor
 * (`adamw_step`), and the element-wise update (`adamw_update`). Encode them many times per submit:
 * each run advances `state`'s step counter on the GPU. Settings are PyTorch's names and defaults
 * (see `AdamWOptions`); they are baked into the shader as constants, as are the `noDecay` ranges.
 * Free the partial sums with `releaseDispatches` when done.
 *
 * With `members` G > 1 (models trained together): `params`, `grads`, `m`, `v` hold G members'
 * [P / G] each, `state` is `[G, 8]`, and member g's learning rate and weight decay are the f32 bits
 * of its state words 6 and 7 (the caller writes them; `options.lr` and `weightDecay` are unused);
 * no clipping. The schedule's shape (warmup, cosine, total) is the members' common one.
 *
 * @example
 * ```ts ignore
 * const { m, v, state } = adamwBuffers(gpu, params);
 * const step = await adamw(gpu, { params, grads, m, v, state }, {
 *   lr: 1e-3, beta2: 0.98, weightDecay: 1, maxNorm: 1, warmup: 10,
 * });
 * gpu.run(step, { repeat: 5 }); // five updates, one submit (with constant grads)
 * const { t, lr } = readAdamWState((await gpu.read([state]))[0]!); // t = 5, lr = 4e-4
 * releaseDispatches(step);
 * ```
 */
export async function adamw(
  gpu: Gpu,
  tensors: AdamWTensors,
  options: AdamWOptions = {},
  members = 1,
): Promise<Dispatch[]> {
  const { params, grads, m, v, state } = tensors;
  const G = members;
  for (const [name, t] of Object.entries({ params, grads, m, v })) {
    if (name !== "params") expectShape("adamw", name, t.shape, params.shape);
    if (t.dtype !== "f32") throw new RangeError(`adamw: ${name} is ${t.dtype}, expected f32`);
  }
  expectShape("adamw", "state", state.shape, G === 1 ? [ADAMW_STATE_SIZE] : [G, ADAMW_STATE_SIZE]);
  const P = params.size;
  if (P < 1) throw new RangeError(`adamw: params has shape [${params.shape}], no elements`);
  if (P % G !== 0) throw new RangeError(`adamw: ${P} parameters are not ${G} members'`);
  const o = resolveAdamWOptions(options, P / G);
  const norm = o.maxNorm !== undefined;
  if (norm && G > 1) throw new RangeError("adamw: members trained together do not clip");
  const S = norm ? Math.min(Math.ceil(P / WG), MAX_PARTIALS) : 1;
  const lnBeta = (beta: number) => beta === 0 ? -100 : Math.log(beta);
  const filled = fillTemplate(source, {
    P,
    G,
    PS: P / G,
    S,
    LR: f32Literal(o.lr, "adamw: lr"),
    MIN_LR: f32Literal(o.minLr, "adamw: minLr"),
    WARMUP: o.warmup,
    COSINE: o.schedule === "cosine",
    // Unused by the constant schedule, but `TOTAL - WARMUP` must not underflow there.
    TOTAL: o.schedule === "cosine" ? o.total : o.warmup + 1,
    BETA1: f32Literal(o.beta1, "adamw: beta1"),
    BETA2: f32Literal(o.beta2, "adamw: beta2"),
    ONE_MINUS_BETA1: f32Literal(1 - o.beta1, "adamw: 1 - beta1"),
    ONE_MINUS_BETA2: f32Literal(1 - o.beta2, "adamw: 1 - beta2"),
    LN_BETA1: f32Literal(lnBeta(o.beta1), "adamw: ln beta1"),
    LN_BETA2: f32Literal(lnBeta(o.beta2), "adamw: ln beta2"),
    EPS: f32Literal(o.eps, "adamw: eps"),
    WEIGHT_DECAY: f32Literal(o.weightDecay, "adamw: weightDecay"),
    MAX_NORM: f32Literal(norm && o.maxNorm !== Infinity ? o.maxNorm! : 1, "adamw: maxNorm"),
    CLIP: norm && o.maxNorm !== Infinity,
    NO_DECAY: noDecayExpression(o.noDecay),
  });
  const launch = (entryPoint: string, buffers: GpuTensor[], workgroups: [number, number]) =>
    gpu.kernel({ label: "adamw.wgsl", source: filled, entryPoint, buffers, workgroups });
  const update = await launch("adamw_update", [params, grads, m, v, state], grid1d(P, WG));
  if (!norm) return [await launch("adamw_step_plain", [state], [G, 1]), update];
  const partials = gpu.empty([S]);
  const sumsq = await launch("grad_sumsq", [grads, partials], [S, 1]);
  return [
    { ...sumsq, scratch: [partials] },
    await launch("adamw_step", [state, partials], [1, 1]),
    update,
  ];
}

/**
 * Zeroed optimizer state for `params`: the moments `m` and `v` shaped like it and the
 * `[ADAMW_STATE_SIZE]` step state. Release them (`.release()`) when training ends.
 *
 * @example
 * ```ts ignore
 * const { m, v, state } = adamwBuffers(gpu, params);
 * ```
 */
export function adamwBuffers(gpu: Gpu, params: GpuTensor): AdamWBuffers {
  return {
    m: gpu.zeros(params.shape),
    v: gpu.zeros(params.shape),
    state: gpu.zeros([ADAMW_STATE_SIZE]),
  };
}

/**
 * Decodes a read-back `state` tensor (f32 or i32, as `gpu.read` returns it): the step count, the
 * learning rate the last update used, its gradient norm, clip factor and bias corrections.
 *
 * @example
 * ```ts ignore
 * const [back] = await gpu.read([state]);
 * const { t, lr, norm, clip } = readAdamWState(back!);
 * ```
 */
export function readAdamWState(state: Tensor): AdamWState {
  const data = state.data;
  if (state.size !== ADAMW_STATE_SIZE || data instanceof Float64Array) {
    throw new RangeError(
      `readAdamWState: expected the [${ADAMW_STATE_SIZE}] f32 or i32 words read back from the ` +
        `GPU, got ${state.dtype} [${state.shape}]`,
    );
  }
  const words = new Uint32Array(data.buffer, data.byteOffset, ADAMW_STATE_SIZE);
  const values = new Float32Array(data.buffer, data.byteOffset, ADAMW_STATE_SIZE);
  return {
    t: words[0]!,
    lr: values[1]!,
    norm: values[2]!,
    clip: values[3]!,
    biasCorrection1: values[4]!,
    biasCorrection2: values[5]!,
  };
}
