/**
 * The MLP (TransformerLens' `MLP`): `act(x·W_in + b_in)·W_out + b_out`, and its backward. Shape
 * letters: `context.ts`; `[B, T, ·]` is `[B, 1, ·]` in a last block at the last position alone
 * (`ModelContext.tailAtLast`).
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { activationBackward, activationForward, addInplace, matmul } from "../../../kernels/mod.ts";
import type { ModelContext } from "./context.ts";

/** One MLP's forward: what its backward reads. */
export interface Mlp {
  /** `[B, T, D]`: the input (ln2's output). */
  x: GpuTensor;
  /** `[B, T, M]`: `x·W_in + b_in`. */
  pre: GpuTensor;
  /** `[B, T, M]`: `act(pre)`. */
  post: GpuTensor;
  /** `[B, T, D]`: `hook_mlp_out`. */
  out: GpuTensor;
}

/**
 * The MLP of block `block` (`blocks.0`) over `x` `[B, T, D]`.
 *
 * @example
 * ```ts ignore
 * const m = await mlp.forward(c, "blocks.0", ln2.y);
 * ```
 */
export async function forward(c: ModelContext, block: string, x: GpuTensor): Promise<Mlp> {
  const { gpu, D, M } = c;
  const rows = x.shape.slice(0, -1); // [B, T]
  const pre = c.hook(`${block}.mlp.hook_pre`, [...rows, M]);
  const post = c.hook(`${block}.mlp.hook_post`, [...rows, M]);
  const out = c.hook(`${block}.hook_mlp_out`, [...rows, D]);
  await c.fwd(matmul(gpu, c.rows(x, D), c.w(`${block}.mlp.W_in`), c.rows(pre, M), c.mm()));
  await c.fwd(addInplace(gpu, pre, c.param(`${block}.mlp.b_in`), c.members));
  c.done(`${block}.mlp.hook_pre`);
  await c.fwd(activationForward(gpu, pre, post, { act: c.cfg.act_fn }));
  c.done(`${block}.mlp.hook_post`);
  await c.fwd(matmul(gpu, c.rows(post, M), c.w(`${block}.mlp.W_out`), c.rows(out, D), c.mm()));
  await c.fwd(addInplace(gpu, out, c.param(`${block}.mlp.b_out`), c.members));
  c.done(`${block}.hook_mlp_out`);
  return { x, pre, post, out };
}

/**
 * From `dout` `[B, T, D]`, the gradient of `m.out`: the weights' gradients (overwritten) and the
 * input's gradient, written to `dx` `[B, T, D]`.
 *
 * @example
 * ```ts ignore
 * await mlp.backward(c, "blocks.0", m, dresid, dSub);
 * ```
 */
export async function backward(
  c: ModelContext,
  block: string,
  m: Mlp,
  dout: GpuTensor,
  dx: GpuTensor,
): Promise<void> {
  const { gpu, D, M } = c;
  const p = `${block}.mlp`;
  const dpost = c.scratch("mlp.dpost", [...m.pre.shape]);
  const dpre = c.scratch("mlp.dpre", [...m.pre.shape]);
  const transA = c.mm({ transA: true });
  const transB = c.mm({ transB: true });
  await c.biasGrad(dout, `${p}.b_out`);
  await c.bwd(matmul(gpu, c.rows(m.post, M), c.rows(dout, D), c.dw(`${p}.W_out`), transA));
  await c.bwd(matmul(gpu, c.rows(dout, D), c.w(`${p}.W_out`), c.rows(dpost, M), transB));
  await c.bwd(activationBackward(gpu, m.pre, dpost, dpre, { act: c.cfg.act_fn }));
  await c.biasGrad(dpre, `${p}.b_in`);
  await c.bwd(matmul(gpu, c.rows(m.x, D), c.rows(dpre, M), c.dw(`${p}.W_in`), transA));
  await c.bwd(matmul(gpu, c.rows(dpre, M), c.w(`${p}.W_in`), c.rows(dx, D), transB));
}
