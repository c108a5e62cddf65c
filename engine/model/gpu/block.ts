/**
 * A transformer block (TransformerLens' `TransformerBlock`):
 * `mid = resid_pre + attn(ln1(resid_pre))`, `resid_post = mid + mlp(ln2(mid))`, and its backward.
 * The residual stream's gradient passes the adds unchanged, so the backward only adds each
 * sublayer's input gradient into it. A loss-only model's last block (`ModelContext.atLast`) takes
 * `mid`'s last position and runs ln2 and the MLP there alone: its `resid_post` is `[B, 1, D]`.
 * Shape letters: `context.ts`.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import { addForward, lastPositionBackward, lastPositionForward } from "../../../kernels/mod.ts";
import * as attention from "./attention.ts";
import type { ModelContext } from "./context.ts";
import * as layernorm from "./layernorm.ts";
import * as mlp from "./mlp.ts";

/** One block's forward: what its backward reads. */
export interface Block {
  ln1: layernorm.Norm;
  attn: attention.Attention;
  /** Absent in an attention-only model. */
  mlp?: { ln2: layernorm.Norm; mlp: mlp.Mlp };
  /** `[B, T, D]`: `hook_resid_post` (`[B, 1, D]` at the last position alone). */
  out: GpuTensor;
  /** Whether ln2 and the MLP ran at the last position alone (`ModelContext.atLast`). */
  atLast: boolean;
}

/**
 * How a block's attention runs over ln1's output: `attention.forward` over the whole sequence, or a
 * cached decoding step's over one new position (`engine/sample/gpu_cached.ts`).
 */
export type Attend = (
  c: ModelContext,
  block: string,
  x: GpuTensor,
) => Promise<attention.Attention>;

/**
 * Block `block` (`blocks.0`) over the residual stream `resid` `[B, T, D]`, its attention by
 * `attend` (`attention.forward` unless given).
 *
 * @example
 * ```ts ignore
 * const b0 = await block.forward(c, "blocks.0", resid);
 * ```
 */
export async function forward(
  c: ModelContext,
  block: string,
  resid: GpuTensor,
  attend: Attend = attention.forward,
): Promise<Block> {
  const ln1 = await layernorm.forward(c, `${block}.ln1`, resid);
  const attn = await attend(c, block, ln1.y);
  // An attention-only block has no resid_mid in TransformerLens: its sum is resid_post.
  const mid = await residualAdd(c, `${block}.hook_resid_${c.cfg.attn_only ? "post" : "mid"}`, {
    resid,
    out: attn.out,
  });
  if (c.cfg.attn_only) return { ln1, attn, out: mid, atLast: false };
  const atLast = c.atLast(block);
  let x = mid; // [B, T, D]
  if (atLast) {
    x = c.fresh([c.B, 1, c.D]); // [B, 1, D]
    await c.fwd(lastPositionForward(c.gpu, mid, x));
  }
  const ln2 = await layernorm.forward(c, `${block}.ln2`, x);
  const m = await mlp.forward(c, block, ln2.y);
  const out = await residualAdd(c, `${block}.hook_resid_post`, { resid: x, out: m.out });
  return { ln1, attn, mlp: { ln2, mlp: m }, out, atLast };
}

/**
 * Hook `name` `[B, T, D]` (or `[B, 1, D]`) = `resid` + a sublayer's `out`.
 *
 * @example
 * ```ts ignore
 * const mid = await residualAdd(c, "blocks.0.hook_resid_mid", { resid, out: attn.out });
 * ```
 */
export async function residualAdd(
  c: ModelContext,
  name: string,
  terms: { resid: GpuTensor; out: GpuTensor },
): Promise<GpuTensor> {
  const sum = c.hook(name, [...terms.resid.shape]);
  await c.fwd(addForward(c.gpu, terms.resid, terms.out, sum));
  c.done(name);
  return sum;
}

/**
 * `dresid` `[B, T, D]`, the gradient of `b.out`, becomes that of the block's input, returned; the
 * weights' gradients are overwritten. `dSub` `[B, T, D]` holds each sublayer's input gradient on the
 * way. At the last position alone, `dresid` is `[B, 1, D]` and the input's is a new `[B, T, D]`.
 *
 * @example
 * ```ts ignore
 * dresid = await block.backward(c, "blocks.0", b0, { dresid, dSub });
 * ```
 */
export async function backward(
  c: ModelContext,
  block: string,
  b: Block,
  grads: { dresid: GpuTensor; dSub: GpuTensor },
): Promise<GpuTensor> {
  let { dresid } = grads;
  const { dSub } = grads;
  // dresid is one buffer through the whole backward: each hook's gradient is in it for a moment.
  c.gradDone(`${block}.hook_resid_post`, dresid);
  if (b.mlp !== undefined) {
    c.gradDone(`${block}.hook_mlp_out`, dresid);
    const dx = b.atLast ? dSub.view(0, [...dresid.shape]) : dSub; // the MLP's input gradient
    await mlp.backward(c, block, b.mlp.mlp, dresid, dx);
    await layernorm.backward(c, `${block}.ln2`, b.mlp.ln2, dx, dresid);
    if (b.atLast) {
      // mid's other positions reach the loss through nothing: their gradient is 0.
      const full = c.fresh([c.B, c.T, c.D]);
      await c.bwd(lastPositionBackward(c.gpu, dresid, full));
      dresid = full;
    }
    c.gradDone(`${block}.hook_resid_mid`, dresid);
  }
  c.gradDone(`${block}.hook_attn_out`, dresid);
  await attention.backward(c, block, b.attn, dresid, dSub);
  await layernorm.backward(c, `${block}.ln1`, b.ln1, dSub, dresid);
  c.gradDone(`${block}.hook_resid_pre`, dresid);
  return dresid;
}
