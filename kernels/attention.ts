/**
 * Launchers for `attention.wgsl`: causal attention from `q, k, v` (`[batch, pos, head, d_head]`,
 * TransformerLens' `hook_q/k/v`) to the pattern (`[batch, head, q_pos, k_pos]`, `hook_pattern`) and
 * `z` (`[batch, pos, head, d_head]`, `hook_z`), the masked scores (`hook_attn_scores`) for
 * analyses, and the backward to `dq, dk, dv`. The float64 reference is
 * `engine/reference/attention.ts`.
 *
 * @module
 */

import source from "./attention.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";

/** Settings shared by the attention launchers. */
export interface AttentionOptions {
  /**
   * What multiplies `q·k` before the mask and softmax: `1 / sqrt(d_head)` by default, as
   * TransformerLens' `attn_scale = sqrt(d_head)` divides. Forward and backward must agree.
   */
  scale?: number;
}

/** The operands of `attentionForward`: each `[batch, pos, head, d_head]`. */
export interface AttentionInputs {
  q: GpuTensor;
  k: GpuTensor;
  v: GpuTensor;
}

/** Where `attentionForward` writes: `pattern` `[batch, head, pos, pos]`, `z` like `q`. */
export interface AttentionOutputs {
  pattern: GpuTensor;
  z: GpuTensor;
}

/** What `attentionBackward` reads: the forward's inputs, its saved `pattern`, and `dz` like `z`. */
export interface AttentionSaved extends AttentionInputs {
  pattern: GpuTensor;
  dz: GpuTensor;
}

/** Where `attentionBackward` writes (overwrites, not accumulates): each like `q`. */
export interface AttentionGrads {
  dq: GpuTensor;
  dk: GpuTensor;
  dv: GpuTensor;
}

const WG = 256;

/**
 * `[B, T, H, E]` of `q`, checked to be four positive sizes (this kernel's and flash attention's).
 *
 * @example
 * ```ts ignore
 * const [B, T, H, E] = attentionDims("attention", q); // q: [B, T, H, E]
 * ```
 */
export function attentionDims(kernel: string, q: GpuTensor): [number, number, number, number] {
  if (q.shape.length !== 4 || q.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(
      `${kernel}: q has shape [${q.shape}], expected [batch, pos, head, d_head]`,
    );
  }
  return q.shape as unknown as [number, number, number, number];
}

/**
 * The attention scale (`options.scale`, else 1/√d_head) as a WGSL float literal: "0.125", "1e-7";
 * a bare "2" gets ".0". This kernel's and flash attention's.
 *
 * @example
 * ```ts
 * import { scaleLiteral } from "./attention.ts";
 * scaleLiteral("attention", 64, {}); // "0.125"
 * scaleLiteral("attention", 64, { scale: 2 }); // "2.0"
 * ```
 */
export function scaleLiteral(kernel: string, E: number, options: AttentionOptions): string {
  const scale = options.scale ?? 1 / Math.sqrt(E);
  if (!Number.isFinite(scale)) throw new RangeError(`${kernel}: scale ${scale} is not finite`);
  const literal = String(scale);
  return /[.e]/.test(literal) ? literal : `${literal}.0`;
}

/** The template filled for `q`'s shape. */
function filled(shape: readonly number[], options: AttentionOptions): string {
  const [B, T, H, E] = shape as [number, number, number, number];
  return fillTemplate(source, { B, T, H, E, SCALE: scaleLiteral("attention", E, options) });
}

/**
 * Causal attention forward: `pattern = softmax_j≤i(scale · q_i·k_j)` (0 above the diagonal) and
 * `z_i = Σ_j pattern_ij v_j`, per batch and head. One invocation per query row (`B·H·T`); each
 * writes its pattern row and its `z` row, so the pattern is saved for the backward as it is
 * written.
 *
 * @example
 * ```ts ignore
 * // q, k, v: [B, T, H, E]; pattern: [B, H, T, T]; z: [B, T, H, E]
 * gpu.run(await attentionForward(gpu, { q, k, v }, { pattern, z }));
 * ```
 */
export async function attentionForward(
  gpu: Gpu,
  inputs: AttentionInputs,
  outputs: AttentionOutputs,
  options: AttentionOptions = {},
): Promise<Dispatch[]> {
  const name = "attention_forward";
  const [B, T, H] = attentionDims(name, inputs.q);
  expectShape(name, "k", inputs.k.shape, inputs.q.shape);
  expectShape(name, "v", inputs.v.shape, inputs.q.shape);
  expectShape(name, "pattern", outputs.pattern.shape, [B, H, T, T]);
  expectShape(name, "z", outputs.z.shape, inputs.q.shape);
  return [
    await gpu.kernel({
      label: "attention.wgsl",
      source: filled(inputs.q.shape, options),
      entryPoint: name,
      buffers: [inputs.q, inputs.k, inputs.v, outputs.pattern, outputs.z],
      workgroups: grid1d(B * H * T, WG),
    }),
  ];
}

/**
 * The scaled, masked attention scores `[batch, head, q_pos, k_pos]` (TransformerLens'
 * `hook_attn_scores`): `scale · q_i·k_j`, and exactly `-Infinity` above the diagonal (written as
 * f32 bits). The same arithmetic as `attentionForward`'s, so the same bits; not needed for
 * training. One invocation per score (`B·H·T·T`).
 *
 * @example
 * ```ts ignore
 * const scores = gpu.empty([B, H, T, T]);
 * gpu.run(await attentionScores(gpu, { q, k }, scores));
 * ```
 */
export async function attentionScores(
  gpu: Gpu,
  inputs: { q: GpuTensor; k: GpuTensor },
  scores: GpuTensor,
  options: AttentionOptions = {},
): Promise<Dispatch[]> {
  const name = "attention_scores";
  const [B, T, H] = attentionDims(name, inputs.q);
  expectShape(name, "k", inputs.k.shape, inputs.q.shape);
  expectShape(name, "scores", scores.shape, [B, H, T, T]);
  return [
    await gpu.kernel({
      label: "attention.wgsl",
      source: filled(inputs.q.shape, options),
      entryPoint: name,
      buffers: [inputs.q, inputs.k, scores],
      workgroups: grid1d(B * H * T * T, WG),
    }),
  ];
}

/**
 * Causal attention backward, in two deterministic launches. The first, per query row, forms
 * `dscores = pattern ⊙ (dz·vᵀ - Σ_j pattern ⊙ dz·vᵀ)` into a `[B, H, T, T]` scratch and
 * `dq = scale · dscores·k`; the second, per key row, sums `i ≥ j` in order for
 * `dk = scale · dscoresᵀ·q` and `dv = patternᵀ·dz`. The scratch is the first dispatch's: free it
 * with `releaseDispatches` once the dispatches will not run again. `dq, dk, dv` are overwritten.
 *
 * @example
 * ```ts ignore
 * const backward = await attentionBackward(gpu, { q, k, v, pattern, dz }, { dq, dk, dv });
 * gpu.run(backward);
 * releaseDispatches(backward);
 * ```
 */
export async function attentionBackward(
  gpu: Gpu,
  saved: AttentionSaved,
  grads: AttentionGrads,
  options: AttentionOptions = {},
): Promise<Dispatch[]> {
  const name = "attention_backward";
  const { q, k, v, pattern, dz } = saved;
  const [B, T, H] = attentionDims(name, q);
  for (const [operand, t] of [["k", k], ["v", v], ["dz", dz]] as const) {
    expectShape(name, operand, t.shape, q.shape);
  }
  expectShape(name, "pattern", pattern.shape, [B, H, T, T]);
  for (const [operand, t] of [["dq", grads.dq], ["dk", grads.dk], ["dv", grads.dv]] as const) {
    expectShape(name, operand, t.shape, q.shape);
  }
  const text = filled(q.shape, options);
  const workgroups = grid1d(B * H * T, WG);
  const dscores = gpu.empty([B, H, T, T]);
  try {
    const query = await gpu.kernel({
      label: "attention.wgsl",
      source: text,
      entryPoint: "attention_backward_query",
      buffers: [dz, k, v, pattern, dscores, grads.dq],
      workgroups,
      scratch: [dscores],
    });
    const key = await gpu.kernel({
      label: "attention.wgsl",
      source: text,
      entryPoint: "attention_backward_key",
      buffers: [dz, q, pattern, dscores, grads.dk, grads.dv],
      workgroups,
    });
    return [query, key];
  } catch (e) {
    dscores.release();
    throw e;
  }
}
