/**
 * Launchers for `decode.wgsl`: the position-dependent parts of one step of cached decoding, the
 * token and position read on the GPU from `step [2]` (`[token, pos]`, i32), so a generator writes
 * 8 bytes per token and reruns the same dispatches. The reference is `attendCached` of
 * `engine/sample/cpu_cached.ts` (and the embedding's sum).
 *
 * Shape letters: C n_ctx, V d_vocab, D d_model, H n_heads, E d_head.
 *
 * @module
 */

import source from "./decode.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
} from "../engine/gpu/mod.ts";

/** Keys per workgroup pass of `decode_attention`, and `decode_embed`'s workgroup size. */
const WG = 64;
/** The most positions `decode_attention` keeps scores for in workgroup memory. */
const MAX_C = 1024;

/**
 * `resid [1, 1, D] = W_E[token] + W_pos[pos]` with `[token, pos]` read from `step`; `W_E[token]`
 * alone with `positions: false` (a shortformer model).
 *
 * @example
 * ```ts ignore
 * gpu.write(step, new Int32Array([token, pos]));
 * gpu.run(await decodeEmbed(gpu, { step, W_E, W_pos }, resid));
 * ```
 */
export async function decodeEmbed(
  gpu: Gpu,
  inputs: { step: GpuTensor; W_E: GpuTensor; W_pos: GpuTensor },
  resid: GpuTensor,
  options: { positions?: boolean } = {},
): Promise<Dispatch[]> {
  const [V, D] = inputs.W_E.shape as [number, number];
  const C = inputs.W_pos.shape[0]!;
  expectShape("decode_embed", "step", inputs.step.shape, [2]);
  expectShape("decode_embed", "W_pos", inputs.W_pos.shape, [C, D]);
  expectShape("decode_embed", "resid", resid.shape, [1, 1, D]);
  const WITH_POS = options.positions ?? true;
  return [
    await gpu.kernel({
      label: "decode.wgsl",
      source: fillTemplate(source, { C, V, D, H: 1, E: 1, WITH_POS }),
      entryPoint: "decode_embed",
      buffers: [inputs.step, inputs.W_E, inputs.W_pos, resid],
      workgroups: [Math.ceil(D / WG)],
    }),
  ];
}

/**
 * `posRow [1, 1, D] = W_pos[pos]` with `pos` read from `step`: what a shortformer model's query
 * and key inputs add at this step.
 *
 * @example
 * ```ts ignore
 * gpu.run(await decodePositions(gpu, { step, W_pos }, posRow));
 * ```
 */
export async function decodePositions(
  gpu: Gpu,
  inputs: { step: GpuTensor; W_pos: GpuTensor },
  posRow: GpuTensor,
): Promise<Dispatch[]> {
  const [C, D] = inputs.W_pos.shape as [number, number];
  expectShape("decode_pos", "step", inputs.step.shape, [2]);
  expectShape("decode_pos", "posRow", posRow.shape, [1, 1, D]);
  return [
    await gpu.kernel({
      label: "decode.wgsl",
      source: fillTemplate(source, { C, V: 1, D, H: 1, E: 1, WITH_POS: false }),
      entryPoint: "decode_pos",
      buffers: [inputs.step, inputs.W_pos, posRow],
      workgroups: [Math.ceil(D / WG)],
    }),
  ];
}

/**
 * Appends `k`, `v` `[1, 1, H, E]` at row `pos` (from `step`) of the caches `[C, H, E]` and writes
 * `z [1, 1, H, E]`, each head's causal attention from `q` over rows `0 ..= pos`.
 *
 * @example
 * ```ts ignore
 * gpu.run(await decodeAttention(gpu, { step, q, k, v }, { kCache, vCache, z }));
 * ```
 */
export async function decodeAttention(
  gpu: Gpu,
  inputs: { step: GpuTensor; q: GpuTensor; k: GpuTensor; v: GpuTensor },
  outputs: { kCache: GpuTensor; vCache: GpuTensor; z: GpuTensor },
): Promise<Dispatch[]> {
  const kernel = "decode_attention";
  const [C, H, E] = outputs.kCache.shape as [number, number, number];
  if (outputs.kCache.shape.length !== 3 || C > MAX_C) {
    throw new RangeError(
      `${kernel}: kCache has shape [${outputs.kCache.shape}], expected [C <= ${MAX_C}, H, E]`,
    );
  }
  expectShape(kernel, "step", inputs.step.shape, [2]);
  for (const [name, t] of Object.entries({ ...inputs, z: outputs.z })) {
    if (name !== "step") expectShape(kernel, name, t.shape, [1, 1, H, E]);
  }
  expectShape(kernel, "vCache", outputs.vCache.shape, [C, H, E]);
  const { step, q, k, v } = inputs;
  return [
    await gpu.kernel({
      label: "decode.wgsl",
      source: fillTemplate(source, { C, V: 1, D: 1, H, E, WITH_POS: false }),
      entryPoint: kernel,
      buffers: [step, q, k, v, outputs.kCache, outputs.vCache, outputs.z],
      workgroups: [H],
    }),
  ];
}
