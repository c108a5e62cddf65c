/**
 * Launchers for `embed.wgsl`: the fused token and positional embedding (TransformerLens' `Embed` +
 * `PosEmbed`, into `blocks.0.hook_resid_pre`) and its gradients, deterministic without atomics on
 * floats. The float64 reference is `engine/reference/embed.ts`.
 *
 * Out-of-range token ids (< 0 or >= V) embed as zeros (the residual is the positional row alone)
 * and their gradient goes nowhere; nothing is read or written out of bounds.
 *
 * @module
 */

import source from "./embed.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import { sumRows } from "./reduce.ts";

/** What `embedForward` reads. */
export interface EmbedInputs {
  /** `[B, T]` i32 token ids. */
  tokens: GpuTensor;
  /** `[V, D]` f32: the token embedding. */
  W_E: GpuTensor;
  /** `[C, D]` f32: the positional embedding, C = n_ctx >= T. */
  W_pos: GpuTensor;
}

/** What `embedBackward` writes. */
export interface EmbedGrads {
  /** `[V, D]`: row v is the sum of dresid over the positions holding token v (overwritten). */
  dW_E: GpuTensor;
  /**
   * `[C, D]`: row t < T is Σ_b dresid[b, t]; rows t >= T are zero (overwritten). Absent where
   * the positions are not in the residual stream (a shortformer model's reach only q and k).
   */
  dW_pos?: GpuTensor;
}

/**
 * Settings of `embedForward`. `firstRow` and `accumulate` run it on a block of the embedding's
 * rows (`W_E` holding rows `firstRow ..`): the blocks of a `W_E` over the adapter's binding size,
 * the first writing `resid`, the rest adding.
 */
export interface EmbedForwardOptions {
  /** Add `W_pos` to the residual stream (default true); false for a shortformer model. */
  positions?: boolean;
  /** The token id of `W_E`'s first row (default 0). */
  firstRow?: number;
  /** Add the block's rows to `resid` instead of writing it (default false). */
  accumulate?: boolean;
  /** Several members' embeddings at once (`EmbedMembers`); default one. */
  members?: EmbedMembers;
}

/** Settings of `embedBackward`. */
export interface EmbedBackwardOptions {
  /**
   * Vocabulary rows per workgroup of the dW_E pass (each workgroup reads all B·T tokens once).
   * By default 1 for small vocabularies, more where V is large, within workgroup memory.
   */
  vocabPerWorkgroup?: number;
  /** Several members' embeddings at once (`EmbedMembers`); default one. */
  members?: EmbedMembers;
}

function expectDtype(kernel: string, operand: string, t: GpuTensor, dtype: "f32" | "i32"): void {
  if (t.dtype !== dtype) {
    throw new RangeError(`${kernel}: ${operand} has dtype ${t.dtype}, expected ${dtype}`);
  }
}

/** `[B, T]` of the tokens, checked to be a matrix. */
function tokensShape(kernel: string, tokens: GpuTensor): [number, number] {
  if (tokens.shape.length !== 2) {
    throw new RangeError(`${kernel}: tokens has shape [${tokens.shape}], expected [B, T]`);
  }
  expectDtype(kernel, "tokens", tokens, "i32");
  return [tokens.shape[0]!, tokens.shape[1]!];
}

/**
 * Models trained together (`engine/train/group_trainer.ts`): the batch's B examples are `count`
 * members' B / count each, and member g's weights are `stride` elements after member g - 1's.
 */
export interface EmbedMembers {
  count: number;
  stride: number;
}

/** Fills embed.wgsl for one set of shapes. */
function embedSource(
  s: { B: number; T: number; C: number; V: number; D: number; VB: number; positions: boolean },
  members: EmbedMembers,
  block: { V0: number; ACC: boolean } = { V0: 0, ACC: false },
): string {
  const { B, T, C, V, D, VB, positions } = s;
  const { V0, ACC } = block;
  if (B % members.count !== 0) {
    throw new RangeError(`embed: ${B} examples do not split into ${members.count} members`);
  }
  return fillTemplate(source, {
    N: B * T,
    T,
    C,
    V,
    D,
    VB,
    WITH_POS: positions,
    V0,
    ACC,
    G: members.count,
    PS: members.stride,
  });
}

/** `w` `[rows, D]` widened to reach every member's copy (itself for one member). */
function spanMembers(w: GpuTensor, members: EmbedMembers): GpuTensor {
  if (members.count === 1) return w;
  return w.view(0, [(members.count - 1) * members.stride + w.size]);
}

const ONE: EmbedMembers = { count: 1, stride: 0 };

/**
 * `resid [B, T, D] = W_E[tokens] + W_pos[:T]` (`W_E[tokens]` alone with `positions: false`), an
 * invocation per element.
 *
 * @example
 * ```ts ignore
 * gpu.run(await embedForward(gpu, { tokens, W_E, W_pos }, resid)); // resid: [B, T, D]
 * ```
 */
export async function embedForward(
  gpu: Gpu,
  inputs: EmbedInputs,
  resid: GpuTensor,
  options: EmbedForwardOptions = {},
): Promise<Dispatch[]> {
  const kernel = "embed_forward";
  const members = options.members ?? ONE;
  const [B, T] = tokensShape(kernel, inputs.tokens);
  if (inputs.W_E.shape.length !== 2) {
    throw new RangeError(`${kernel}: W_E has shape [${inputs.W_E.shape}], expected [V, D]`);
  }
  const [V, D] = inputs.W_E.shape as [number, number];
  const C = inputs.W_pos.shape[0] ?? 0;
  if (C < T) throw new RangeError(`${kernel}: W_pos has ${C} positions, fewer than T = ${T}`);
  expectShape(kernel, "W_pos", inputs.W_pos.shape, [C, D]);
  expectShape(kernel, "resid", resid.shape, [B, T, D]);
  return [
    await gpu.kernel({
      label: "embed.wgsl",
      source: embedSource(
        { B, T, C, V, D, VB: 1, positions: options.positions ?? true },
        members,
        { V0: options.firstRow ?? 0, ACC: options.accumulate ?? false },
      ),
      entryPoint: kernel,
      buffers: [
        inputs.tokens,
        spanMembers(inputs.W_E, members),
        spanMembers(inputs.W_pos, members),
        resid,
      ],
      workgroups: grid1d(B * T * D, 256),
    }),
  ];
}

/**
 * `dW_E [V, D]` (the rows of `dresid` summed by token id, in token order) and, when given,
 * `dW_pos [C, D]` (`dresid` summed over the batch via `sumRows`, rows from T on cleared): both
 * overwritten.
 *
 * @example
 * ```ts ignore
 * const back = await embedBackward(gpu, { tokens, dresid }, { dW_E, dW_pos });
 * gpu.run(back);
 * releaseDispatches(back); // sumRows' partials, once they will not run again
 * ```
 */
export async function embedBackward(
  gpu: Gpu,
  inputs: { tokens: GpuTensor; dresid: GpuTensor },
  grads: EmbedGrads,
  options: EmbedBackwardOptions = {},
): Promise<Dispatch[]> {
  const members = options.members ?? ONE;
  const G = members.count;
  const kernel = "embed_backward";
  const [B, T] = tokensShape(kernel, inputs.tokens);
  const { dW_E, dW_pos } = grads;
  if (dW_E.shape.length !== 2) {
    throw new RangeError(`${kernel}: dW_E has shape [${dW_E.shape}], expected [V, D]`);
  }
  const [V, D] = dW_E.shape as [number, number];
  const C = dW_pos?.shape[0] ?? T;
  if (C < T) throw new RangeError(`${kernel}: dW_pos has ${C} positions, fewer than T = ${T}`);
  if (dW_pos !== undefined) expectShape(kernel, "dW_pos", dW_pos.shape, [C, D]);
  expectShape(kernel, "dresid", inputs.dresid.shape, [B, T, D]);

  // Workgroup memory: VB·D accumulators and 24 mask words. Aim for >= ~2048 workgroups, within 8 KiB.
  const limit = gpu.device.limits.maxComputeWorkgroupStorageSize;
  const fits = Math.floor((limit - 96) / (4 * D));
  const VB = options.vocabPerWorkgroup ??
    Math.max(1, Math.min(Math.floor(2048 / D), Math.floor(V / 2048)));
  if (!Number.isInteger(VB) || VB < 1 || VB > fits) {
    throw new RangeError(
      `${kernel}: ${VB} vocabulary rows of d_model ${D} per workgroup do not fit in ` +
        `${limit} bytes of workgroup memory (at most ${fits})`,
    );
  }
  const filled = embedSource({ B, T, C, V, D, VB, positions: true }, members);
  const dispatches = [
    await gpu.kernel({
      label: "embed.wgsl",
      source: filled,
      entryPoint: kernel,
      buffers: [inputs.tokens, inputs.dresid, spanMembers(dW_E, members)],
      workgroups: grid1d(G * Math.ceil(V / VB), 1),
    }),
  ];
  if (dW_pos === undefined) return dispatches;
  // dW_pos[t] = Σ_b dresid[b, t], each member's own.
  dispatches.push(...await sumRows(gpu, inputs.dresid, dW_pos.view(0, [T * D]), members));
  if (C > T) {
    if (G > 1) throw new RangeError(`${kernel}: members need T = n_ctx (T ${T}, n_ctx ${C})`);
    dispatches.push(
      await gpu.kernel({
        label: "embed.wgsl",
        source: filled,
        entryPoint: "embed_pos_clear",
        buffers: [dW_pos],
        workgroups: grid1d((C - T) * D, 256),
      }),
    );
  }
  return dispatches;
}
