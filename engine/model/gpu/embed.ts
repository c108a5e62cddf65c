/**
 * The token and positional embedding (TransformerLens' `Embed` + `PosEmbed`), fused into
 * `blocks.0.hook_resid_pre`, and its backward. Shape letters: `context.ts`.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { embedBackward, embedForward } from "../../../kernels/mod.ts";
import { rowsPerBinding } from "./binding.ts";
import type { ModelContext } from "./context.ts";

/**
 * `tokens` `[B, T]` i32 → the residual stream `[B, T, D]` (W_E[tok] + W_pos; W_E[tok] alone in a
 * shortformer model, whose positions `c.positions` join each layer's q and k instead); a `W_E`
 * over the adapter's binding size is bound in blocks of rows (`binding.ts`).
 *
 * @example
 * ```ts ignore
 * const resid = await embed.forward(c, tokens);
 * ```
 */
export async function forward(c: ModelContext, tokens: GpuTensor): Promise<GpuTensor> {
  const resid = c.hook("blocks.0.hook_resid_pre", [c.B, c.T, c.D]); // hook_embed + hook_pos_embed
  const [W_E, W_pos] = [c.param("embed.W_E"), c.param("pos_embed.W_pos")];
  const V = c.cfg.d_vocab;
  const rows = rowsPerBinding(c, V, c.D);
  const positions = c.positions === undefined;
  for (let v0 = 0; v0 < V; v0 += rows) {
    // W_E[v0 : v0 + k] in a binding of its own (each member's); the blocks after the first add.
    const block = W_E.view(v0 * c.D, [Math.min(rows, V - v0), c.D]);
    const at = { positions, firstRow: v0, accumulate: v0 > 0, members: c.members };
    await c.fwd(embedForward(c.gpu, { tokens, W_E: block, W_pos }, resid, at));
  }
  c.done("blocks.0.hook_resid_pre");
  return resid;
}

/**
 * The gradients of W_E and, in a standard model, W_pos (overwritten) from `dresid` `[B, T, D]`
 * (a shortformer's W_pos gradient comes from the attention backward).
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
  const dW_E = c.grad("embed.W_E");
  const grads = c.positions === undefined ? { dW_E, dW_pos: c.grad("pos_embed.W_pos") } : { dW_E };
  const members = c.G === 1 ? {} : { members: c.members };
  await c.bwd(embedBackward(c.gpu, { tokens, dresid }, grads, members));
}
