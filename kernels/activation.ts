/**
 * Launchers for `activation.wgsl`: the MLP's activation (TransformerLens' `act_fn`: `relu`, `gelu`
 * or `gelu_new`) forward, `mlp.hook_pre` to `mlp.hook_post`, and backward, elementwise over
 * operands of any one shape. The float64 reference is `engine/reference/activation.ts`.
 *
 * @module
 */

import source from "./activation.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import {
  type Activation,
  type ActivationOptions,
  ACTIVATIONS,
} from "../engine/reference/activation.ts";

export type { Activation, ActivationOptions };

/** One elementwise launch of `entryPoint` over `pre`'s elements; throws on an unknown activation. */
async function launch(
  gpu: Gpu,
  entryPoint: "activation_forward" | "activation_backward",
  buffers: GpuTensor[],
  act: Activation,
): Promise<Dispatch[]> {
  if (!ACTIVATIONS.includes(act)) {
    throw new RangeError(`${entryPoint}: unknown activation "${act}" (${ACTIVATIONS.join(", ")})`);
  }
  const n = buffers[0]!.size;
  const filled = fillTemplate(source, { N: n, ACT: act });
  return [
    await gpu.kernel({
      label: "activation.wgsl",
      source: filled,
      entryPoint,
      buffers,
      workgroups: grid1d(n, 256),
    }),
  ];
}

/**
 * `post = act(pre)` elementwise (`mlp.hook_pre` to `mlp.hook_post`); `post` has `pre`'s shape.
 *
 * @example
 * ```ts ignore
 * gpu.run(await activationForward(gpu, pre, post, { act: "gelu_new" })); // [B, T, d_mlp]
 * ```
 */
export async function activationForward(
  gpu: Gpu,
  pre: GpuTensor,
  post: GpuTensor,
  options: ActivationOptions,
): Promise<Dispatch[]> {
  expectShape("activation_forward", "post", post.shape, pre.shape);
  return await launch(gpu, "activation_forward", [pre, post], options.act);
}

/**
 * `dpre = act'(pre) · dpost` elementwise; `dpost` and `dpre` have `pre`'s shape. ReLU's derivative
 * at exactly 0 is 0, as PyTorch's.
 *
 * @example
 * ```ts ignore
 * gpu.run(await activationBackward(gpu, pre, dpost, dpre, { act: "gelu_new" }));
 * ```
 */
export async function activationBackward(
  gpu: Gpu,
  pre: GpuTensor,
  dpost: GpuTensor,
  dpre: GpuTensor,
  options: ActivationOptions,
): Promise<Dispatch[]> {
  expectShape("activation_backward", "dpost", dpost.shape, pre.shape);
  expectShape("activation_backward", "dpre", dpre.shape, pre.shape);
  return await launch(gpu, "activation_backward", [pre, dpost, dpre], options.act);
}
