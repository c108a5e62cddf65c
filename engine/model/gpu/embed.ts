/**
 * The token and positional embedding (TransformerLens' `Embed` + `PosEmbed`), fused into
 * `blocks.0.hook_resid_pre`, and its backward. Shape letters: `context.ts`.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { embedBackward, embedForward } from "../../../kernels/mod.ts";
import type { ModelContext } from "./context.ts";

/**
 * `tokens` `[B, T]` i32 → the residual stream `[B, T, D]` (W_E[tok] + W_pos).
 *
 * @example
 * ```ts ignore
 * const resid = await embed.forward(c, tokens);
 * ```
 */
export async function forward(c: ModelContext, tokens: GpuTensor): Promise<GpuTensor> {
  const resid = c.hook("blocks.0.hook_resid_pre", [c.B, c.T, c.D]); // hook_embed + hook_pos_embed
  await c.fwd(
    embedForward(
      c.gpu,
      { tokens, W_E: c.param("embed.W_E"), W_pos: c.param("pos_embed.W_pos") },
      resid,
      c.members,
    ),
  );
  c.done("blocks.0.hook_resid_pre");
  return resid;
}

/**
 * The gradients of W_E and W_pos (overwritten) from `dresid` `[B, T, D]`.
 *
 * @example
 * ```ts ignore
 * await embed.backward(c, tokens, dresid);
 * ```
 */
export async function backward(
  c: ModelContext,
  tokens: GpuTensor,
  dresid: GpuTensor,
): Promise<void> {
  const grads = { dW_E: c.grad("embed.W_E"), dW_pos: c.grad("pos_embed.W_pos") };
  const members = c.G === 1 ? {} : { members: c.members, ones: c.ones(c.Bm) };
  await c.bwd(embedBackward(c.gpu, { tokens, dresid }, grads, members));
}
