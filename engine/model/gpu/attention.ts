/**
 * Attention (TransformerLens' `Attention`): q, k, v per head, the causal softmax pattern, z and the
 * output projection, and the backward of all of it. Shape letters: `context.ts`.
 *
 * Two kernels, one maths. By default the tiled one (`flash_attention.wgsl`): it saves each query
 * row's logsumexp `[B, H, T]` and recomputes the pattern in the backward, so no `[B, H, T, T]`
 * buffer exists and n_ctx can reach 1,024. Where a hook asks for `hook_pattern`
 * (`ModelContext.pattern`: the hooked runner's calls that cache it), the materialising one
 * (`attention.wgsl`) writes the pattern, and its backward reads it. The two agree to a few ulps,
 * not bit for bit.
 *
 * @module
 */

import type { GpuTensor } from "../../gpu/mod.ts";
import {
  addForward,
  addInplace,
  attentionBackward,
  attentionForward,
  flashAttentionBackward,
  flashAttentionForward,
  matmul,
  sumRows,
} from "../../../kernels/mod.ts";
import type { ModelContext } from "./context.ts";

/** One attention layer's forward: what its backward reads. */
export interface Attention {
  /** `[B, T, D]`: the input (ln1's output), what v reads. */
  x: GpuTensor;
  /** `[B, T, D]`: what q and k read: `x`, or `x + W_pos` in a shortformer model. */
  qk: GpuTensor;
  /** `[B, T, H, E]` each. */
  q: GpuTensor;
  k: GpuTensor;
  v: GpuTensor;
  /** `[B, H, T, T]`: softmax over key positions, kept only where `c.pattern`. */
  pattern: GpuTensor | undefined;
  /** `[B, H, T]`: each query row's logsumexp, the tiled kernel's (without `c.pattern`). */
  lse: GpuTensor | undefined;
  /** `[B, T, H, E]`. */
  z: GpuTensor;
  /** `[B, T, D]`: `hook_attn_out`. */
  out: GpuTensor;
}

const PATHS = ["q", "k", "v"] as const;

/**
 * The attention of block `block` (`blocks.0`) over `x` `[B, T, D]`.
 *
 * @example
 * ```ts ignore
 * const attn = await attention.forward(c, "blocks.0", ln1.y);
 * ```
 */
export async function forward(c: ModelContext, block: string, x: GpuTensor): Promise<Attention> {
  const { gpu, B, T, H } = c;
  const a = `${block}.attn`;
  const { qk, ...qkv } = await projectQkv(c, block, x);
  const z = c.hook(`${a}.hook_z`, [B, T, H, c.E]);
  let pattern: GpuTensor | undefined;
  let lse: GpuTensor | undefined;
  if (c.pattern) {
    pattern = c.hook(`${a}.hook_pattern`, [B, H, T, T]);
    await c.fwd(attentionForward(gpu, qkv, { pattern, z }));
    c.done(`${a}.hook_pattern`);
  } else {
    lse = c.fresh([B, H, T]);
    await c.fwd(flashAttentionForward(gpu, qkv, { z, lse }));
  }
  c.done(`${a}.hook_z`);
  return { x, qk, ...qkv, pattern, lse, z, out: await projectOut(c, block, z) };
}

/**
 * What q and k read, `[B, T, D]`: ln1's output `x`, or for a shortformer model `x` plus
 * `c.positions` (TransformerLens adds the positions after ln1, to the queries' and keys' inputs
 * only). The backward reads the same buffer.
 *
 * @example
 * ```ts ignore
 * const qk = await attention.qkInput(c, ln1.y); // ln1.y itself in a standard model
 * ```
 */
export async function qkInput(c: ModelContext, x: GpuTensor): Promise<GpuTensor> {
  if (c.positions === undefined) return x;
  const qk = c.fresh([c.B, c.T, c.D]);
  await c.fwd(addForward(c.gpu, x, c.positions, qk));
  return qk;
}

/**
 * Block `block`'s `hook_q`, `hook_k`, `hook_v` `[B, T, H, E]` from `x` `[B, T, D]` (q and k from
 * `qkInput`, returned as `qk`): the forward's first half, and a cached decoding step's
 * (`engine/sample/gpu_cached.ts`, on one row).
 *
 * @example
 * ```ts ignore
 * const { q, k, v } = await attention.projectQkv(c, "blocks.0", ln1.y);
 * ```
 */
export async function projectQkv(
  c: ModelContext,
  block: string,
  x: GpuTensor,
): Promise<{ q: GpuTensor; k: GpuTensor; v: GpuTensor; qk: GpuTensor }> {
  const { gpu, B, T, D, H, E } = c;
  const a = `${block}.attn`;
  const qkv = {
    q: c.hook(`${a}.hook_q`, [B, T, H, E]),
    k: c.hook(`${a}.hook_k`, [B, T, H, E]),
    v: c.hook(`${a}.hook_v`, [B, T, H, E]),
  };
  const qk = await qkInput(c, x);
  for (const p of PATHS) {
    // Per head h: out[:, h, :] = input·W[h], written straight into [B, T, H, E].
    const X = p.toUpperCase();
    const perHead = c.rows({ tensor: qkv[p], ld: H * E, batchStride: E });
    const dims = c.mm({ m: c.Rm, n: E, k: D, batch: H });
    const input = c.rows({ tensor: p === "v" ? x : qk, batchStride: 0 });
    await c.fwd(matmul(gpu, input, c.w(`${a}.W_${X}`), perHead, dims));
    if (c.biases) await c.fwd(addInplace(gpu, qkv[p], c.param(`${a}.b_${X}`), c.members));
    c.done(`${a}.hook_${p}`);
  }
  return { ...qkv, qk };
}

/**
 * Block `block`'s `hook_attn_out` `[B, T, D]` from `z` `[B, T, H, E]`: the forward's last step,
 * and a cached decoding step's.
 *
 * @example
 * ```ts ignore
 * const out = await attention.projectOut(c, "blocks.0", z);
 * ```
 */
export async function projectOut(c: ModelContext, block: string, z: GpuTensor): Promise<GpuTensor> {
  const { gpu, B, T, D, H, E } = c;
  const out = c.hook(`${block}.hook_attn_out`, [B, T, D]);
  // Σ_h z[h]·W_O[h] is one product: W_O [H, E, D] is [(H E), D].
  const W_O = c.w(`${block}.attn.W_O`, [H * E, D]);
  await c.fwd(matmul(gpu, c.rows(z, H * E), W_O, c.rows(out, D), c.mm()));
  if (c.biases) await c.fwd(addInplace(gpu, out, c.param(`${block}.attn.b_O`), c.members));
  c.done(`${block}.hook_attn_out`);
  return out;
}

/**
 * From `dout` `[B, T, D]`, the gradient of `attn.out`: the weights' gradients (overwritten) and
 * the input's gradient, written to `dx` `[B, T, D]`.
 *
 * @example
 * ```ts ignore
 * await attention.backward(c, "blocks.0", attn, dresid, dSub);
 * ```
 */
export async function backward(
  c: ModelContext,
  block: string,
  attn: Attention,
  dout: GpuTensor,
  dx: GpuTensor,
): Promise<void> {
  const { gpu, B, T, R, D, H, E } = c;
  const a = `${block}.attn`;
  const dz = c.scratch("attention.dz", [B, T, H, E]);
  const dqkv = {
    dq: c.scratch("attention.dq", [B, T, H, E]),
    dk: c.scratch("attention.dk", [B, T, H, E]),
    dv: c.scratch("attention.dv", [B, T, H, E]),
  };
  // Each path's input gradient Σ_h d[:, h, :]·W[h]ᵀ is one product once W [H, D, E] is laid out
  // [(H E), D] (each head's transpose, `Wt`): its sum over K = (h, e) is the sum over heads, so no
  // per-head partial exists. One [R, D] per path, summed below in order.
  const Wt = c.scratch("attention.Wt", [c.G, H, E, D]); // each member's W[h]ᵀ
  const dxPaths = c.scratch("attention.dxPaths", [3, R, D]); // the q, k, v paths into x
  // out = Σ_h z[h]·W_O[h] + b_O
  if (c.biases) await c.biasGrad(dout, `${a}.b_O`);
  const W_O = [H * E, D];
  await c.bwd(
    matmul(
      gpu,
      c.rows(attn.z, H * E),
      c.rows(dout, D),
      c.dw(`${a}.W_O`, W_O),
      c.mm({
        transA: true,
      }),
    ),
  );
  await c.bwd(
    matmul(
      gpu,
      c.rows(dout, D),
      c.w(`${a}.W_O`, W_O),
      c.rows(dz, H * E),
      c.mm({
        transB: true,
      }),
    ),
  );
  c.gradDone(`${a}.hook_z`, dz);
  const { q, k, v, pattern, lse, z } = attn;
  await c.bwd(
    pattern !== undefined
      ? attentionBackward(gpu, { q, k, v, pattern, dz }, dqkv)
      : flashAttentionBackward(gpu, { q, k, v, z, lse: lse!, dz }, dqkv),
  );
  for (const [i, d] of [dqkv.dq, dqkv.dk, dqkv.dv].entries()) {
    const X = PATHS[i]!.toUpperCase();
    const perHead = c.rows({ tensor: d, ld: H * E, batchStride: E }); // head h of [R, H, E]
    if (c.biases) await c.biasGrad(d, `${a}.b_${X}`);
    // dW[h] = inputᵀ·d[:, h, :]
    await c.bwd(
      matmul(
        gpu,
        c.rows({ tensor: i === 2 ? attn.x : attn.qk, batchStride: 0 }),
        perHead,
        c.dw(`${a}.W_${X}`),
        c.mm({
          m: D,
          n: E,
          k: c.Rm,
          batch: H,
          transA: true,
        }),
      ),
    );
    // Wt[h] = I·W[h]ᵀ: each head's transpose as a product with the identity, exact (each output
    // is one term times 1 plus zeros); then the path's dx = d [Rm, (H E)]·Wt [(H E), D].
    const heads = c.mm({ m: E, n: D, k: E, batch: H, transB: true });
    await c.bwd(matmul(gpu, c.shared(c.eye(E)), c.w(`${a}.W_${X}`), c.rows(Wt), heads));
    // A member's rows of the path are Rm·D on from the previous member's.
    const path = { tensor: dxPaths, offset: i * R * D, memberStride: c.Rm * D };
    const dims = c.mm({ m: c.Rm, n: D, k: H * E });
    await c.bwd(matmul(gpu, c.rows(d, H * E), c.rows(Wt, D), path, dims));
  }
  await c.bwd(sumRows(gpu, dxPaths, dx));
  if (c.positions !== undefined) {
    // A shortformer's positions feed q and k: W_pos gets their input gradient, summed over the
    // (path, batch) rows of the first two paths, added to the other layers'.
    const share = c.scratch("attention.dpos", [T, D]);
    await c.bwd(sumRows(gpu, dxPaths.view(0, [2 * B, T * D]), share));
    await c.bwd(addInplace(gpu, c.grad("pos_embed.W_pos"), share));
  }
}
