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

/** The filled source for one activation over `n` elements; throws on an unknown activation. */
function activationSource(kernel: string, n: number, act: Activation): string {
  if (!ACTIVATIONS.includes(act)) {
    throw new RangeError(`${kernel}: unknown activation "${act}" (${ACTIVATIONS.join(", ")})`);
  }
  return fillTemplate(source, { N: n, ACT: act });
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
  return [
    await gpu.kernel({
      label: "activation.wgsl",
      source: activationSource("activation_forward", pre.size, options.act),
      entryPoint: "activation_forward",
      buffers: [pre, post],
      workgroups: grid1d(pre.size, 256),
    }),
  ];
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
  return [
    await gpu.kernel({
      label: "activation.wgsl",
      source: activationSource("activation_backward", pre.size, options.act),
      entryPoint: "activation_backward",
      buffers: [pre, dpost, dpre],
      workgroups: grid1d(pre.size, 256),
    }),
  ];
}
