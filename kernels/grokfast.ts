/**
 * Launcher for `grokfast.wgsl`: the Grokfast-EMA filter (Lee et al. 2024) over all of a model's
 * gradients, one dispatch encoded between the backward pass and AdamW's, so many steps still go in
 * one submit. The EMA lives on the GPU beside AdamW's moments; the filter reads AdamW's step
 * counter to know the first update. The float64 reference, and the formulas, are
 * `engine/reference/grokfast.ts`.
 *
 * @module
 */

import source from "./grokfast.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import { checkGrokfastOptions, type GrokfastOptions } from "../engine/reference/grokfast.ts";
import { ADAMW_STATE_SIZE, f32Literal } from "./adamw.ts";

/** The tensors the filter reads and writes. */
export interface GrokfastTensors {
  /** `[P]` the gradients, filtered in place. */
  grads: GpuTensor;
  /** `[P]` the EMA of the gradients (any value before the first update: it is overwritten). */
  ema: GpuTensor;
  /** `[ADAMW_STATE_SIZE]` AdamW's state, whose step counter says which update this is. */
  state: GpuTensor;
}

/**
 * The dispatch of one Grokfast-EMA filter: encode it after the backward pass and before
 * `adamw(...)`'s dispatches in every step (it reads AdamW's step counter before AdamW advances it).
 * α and λ are baked into the shader as constants.
 *
 * @example
 * ```ts ignore
 * const ema = gpu.zeros(grads.shape);
 * const filter = await grokfast(gpu, { grads, ema, state }, { alpha: 0.98, lambda: 2 });
 * const step = [...forward, ...backward, ...filter, ...await adamw(gpu, tensors, options)];
 * ```
 */
export async function grokfast(
  gpu: Gpu,
  tensors: GrokfastTensors,
  options: GrokfastOptions,
): Promise<Dispatch[]> {
  const { grads, ema, state } = tensors;
  expectShape("grokfast", "ema", ema.shape, grads.shape);
  expectShape("grokfast", "state", state.shape, [ADAMW_STATE_SIZE]);
  for (const [name, t] of Object.entries({ grads, ema })) {
    if (t.dtype !== "f32") throw new RangeError(`grokfast: ${name} is ${t.dtype}, expected f32`);
  }
  checkGrokfastOptions(options);
  const P = grads.size;
  const filled = fillTemplate(source, {
    P,
    ALPHA: f32Literal(options.alpha, "grokfast: alpha"),
    ONE_MINUS_ALPHA: f32Literal(1 - options.alpha, "grokfast: 1 - alpha"),
    LAMBDA: f32Literal(options.lambda, "grokfast: lambda"),
  });
  return [
    await gpu.kernel({
      label: "grokfast.wgsl",
      source: filled,
      entryPoint: "grokfast_filter",
      buffers: [grads, ema, state],
      workgroups: grid1d(P, 256),
    }),
  ];
}
