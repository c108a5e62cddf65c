/**
 * Causal multi-head attention after the projections, in float64: the reference the WGSL kernels
 * (`kernels/attention.wgsl`) are held to, and the CPU training path. Layouts are TransformerLens':
 * `q, k, v, z` are `[batch, pos, head, d_head]` (`hook_q/k/v/z`), `scores` and `pattern` are
 * `[batch, head, q_pos, k_pos]` (`hook_attn_scores`, `hook_pattern`).
 *
 * Forward, per batch `b` and head `h`, for query `i` and key `j`:
 *
 *     scores[b,h,i,j]  = scale · q[b,i,h,:]·k[b,j,h,:]      (-Infinity where j > i)
 *     pattern[b,h,i,:] = softmax(scores[b,h,i,:])            (exactly 0 where j > i)
 *     z[b,i,h,:]       = Σ_j pattern[b,h,i,j] · v[b,j,h,:]
 *
 * Backward, from `dz` (the loss' gradient with respect to `z`):
 *
 *     dpattern = dz·vᵀ                                         [b, h, i, j]
 *     dscores  = pattern ⊙ (dpattern - Σ_j pattern ⊙ dpattern)  (the softmax backward)
 *     dq = scale · dscores·k,   dk = scale · dscoresᵀ·q,   dv = patternᵀ·dz
 *
 * @module
 */

import { add, einsum, mul, softmax, sub, sum, Tensor } from "../tensor/mod.ts";

/** Settings of the attention reference, the same as the kernels'. */
export interface AttentionOptions {
  /** What multiplies `q·k`: `1 / sqrt(d_head)` by default (TransformerLens' `1 / attn_scale`). */
  scale?: number;
}

/** What `attentionForward` returns: TransformerLens' three attention hooks. */
export interface AttentionForwardResult {
  /** `[batch, head, q_pos, k_pos]`: scaled `q·k`, `-Infinity` above the diagonal. */
  scores: Tensor;
  /** `[batch, head, q_pos, k_pos]`: the softmax of each score row, `0` above the diagonal. */
  pattern: Tensor;
  /** `[batch, pos, head, d_head]`: each query's pattern-weighted sum of values. */
  z: Tensor;
}

/** What `attentionBackward` reads: the forward's inputs, its pattern, and `dz` like `z`. */
export interface AttentionSaved {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  pattern: Tensor;
  dz: Tensor;
}

/** What `attentionBackward` returns: the gradients of `q`, `k` and `v`, each shaped like them. */
export interface AttentionGrads {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
}

/** `[batch, pos, head, d_head]` of `q`, after checking that `others` have the same shape. */
function dims(
  caller: string,
  q: Tensor,
  others: Record<string, Tensor>,
): [number, number, number, number] {
  if (q.ndim !== 4) {
    throw new RangeError(
      `${caller}: q has shape [${q.shape}], expected [batch, pos, head, d_head]`,
    );
  }
  for (const [name, t] of Object.entries(others)) {
    if (t.shape.join() !== q.shape.join()) {
      throw new RangeError(`${caller}: ${name} has shape [${t.shape}], expected [${q.shape}]`);
    }
  }
  return q.shape as unknown as [number, number, number, number];
}

/** `[pos, pos]`: 0 on and below the diagonal, -Infinity above it (keys after the query). */
function causalMask(T: number): Tensor {
  const mask = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -Infinity;
  return new Tensor(mask, [T, T]);
}

/**
 * Causal attention forward: the masked scores, the pattern and `z`, from `q, k, v`, each
 * `[batch, pos, head, d_head]`. Float64 in, float64 out.
 *
 * @example
 * ```ts
 * import { attentionForward } from "./attention.ts";
 * import { tensor } from "../tensor/mod.ts";
 * // One batch, two positions, one head, d_head 1: position 1 scores keys 0 and 1 as 0 and ln 3.
 * const q = tensor([0, 1], [1, 2, 1, 1]);
 * const k = tensor([0, Math.log(3)], [1, 2, 1, 1]);
 * const v = tensor([4, 8], [1, 2, 1, 1]);
 * const { scores, pattern, z } = attentionForward(q, k, v);
 * scores.toArray(); // Float64Array [0, -Infinity, 0, 1.0986...]
 * pattern.toArray(); // Float64Array [1, 0, 0.25, 0.75]
 * z.toArray(); // Float64Array [4, 7]
 * ```
 */
export function attentionForward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): AttentionForwardResult {
  const [, T, , E] = dims("attentionForward", q, { k, v });
  const scale = options.scale ?? 1 / Math.sqrt(E);
  const qk = einsum("b i h e, b j h e -> b h i j", q, k);
  const scores = add(mul(qk, scale), causalMask(T));
  const pattern = softmax(scores, -1);
  const z = einsum("b h i j, b j h e -> b i h e", pattern, v);
  return { scores, pattern, z };
}

/**
 * Causal attention backward: `dq, dk, dv` from `dz` and what the forward saw and saved.
 * Float64 in, float64 out.
 *
 * @example
 * ```ts
 * import { attentionBackward, attentionForward } from "./attention.ts";
 * import { randn } from "../tensor/mod.ts";
 * const [q, k, v, dz] = [1, 2, 3, 4].map((seed) => randn([2, 3, 4, 8], { seed }));
 * const { pattern } = attentionForward(q!, k!, v!);
 * const { dq, dk, dv } = attentionBackward({ q: q!, k: k!, v: v!, pattern, dz: dz! });
 * dq.shape; // [2, 3, 4, 8]
 * ```
 */
export function attentionBackward(
  saved: AttentionSaved,
  options: AttentionOptions = {},
): AttentionGrads {
  const { q, k, v, pattern, dz } = saved;
  const [B, T, H, E] = dims("attentionBackward", q, { k, v, dz });
  if (pattern.shape.join() !== [B, H, T, T].join()) {
    throw new RangeError(
      `attentionBackward: pattern has shape [${pattern.shape}], expected [${[B, H, T, T]}]`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(E);
  const dpattern = einsum("b i h e, b j h e -> b h i j", dz, v);
  const weighted = sum(mul(pattern, dpattern), -1, { keepdims: true });
  const dscores = mul(pattern, sub(dpattern, weighted));
  const dq = mul(einsum("b h i j, b j h e -> b i h e", dscores, k), scale);
  const dk = mul(einsum("b h i j, b i h e -> b j h e", dscores, q), scale);
  const dv = einsum("b h i j, b i h e -> b j h e", pattern, dz);
  return { dq, dk, dv };
}

/**
 * The log of each causal softmax row's normaliser, `lse[b,h,i] = log Σ_j≤i exp(scores[b,h,i,j])`,
 * from the forward's `scores` (`[batch, head, q_pos, k_pos]`, `-Infinity` above the diagonal):
 * what the tiled kernel (`kernels/flash_attention.wgsl`) saves for its backward instead of the
 * pattern. `[batch, head, q_pos]`, computed with the row max subtracted.
 *
 * @example
 * ```ts
 * import { attentionForward, attentionLogsumexp } from "./attention.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const q = tensor([0, 1], [1, 2, 1, 1]);
 * const k = tensor([0, Math.log(3)], [1, 2, 1, 1]);
 * const { scores } = attentionForward(q, k, q);
 * attentionLogsumexp(scores).toArray(); // Float64Array [0, 1.386...] (log 1, log 4)
 * ```
 */
export function attentionLogsumexp(scores: Tensor): Tensor {
  if (scores.ndim !== 4 || scores.shape[2] !== scores.shape[3]) {
    throw new RangeError(
      `attentionLogsumexp: scores has shape [${scores.shape}], expected [batch, head, pos, pos]`,
    );
  }
  const [B, H, T] = scores.shape as unknown as [number, number, number];
  const out = new Float64Array(B * H * T);
  for (let r = 0; r < B * H * T; r++) {
    const row = scores.data.subarray(r * T, (r + 1) * T);
    let m = -Infinity;
    for (const s of row) m = Math.max(m, s);
    let total = 0;
    for (const s of row) total += Math.exp(s - m);
    out[r] = m + Math.log(total);
  }
  return new Tensor(out, [B, H, T]);
}
