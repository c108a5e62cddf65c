/**
 * TransformerLens' hook points on the fast f32 model: where `forwardPass` hands an activation to a
 * hook site and reads back what the site returns, and the activations the fast pass does not
 * otherwise form (the embeddings apart, LayerNorm's scale, q, k and v apart, the attention scores
 * and pattern, each head's result). Each is formed only where the site wants it, so a pass with no
 * site, or one that wants nothing, is the trainer's pass bit for bit.
 *
 * Every activation is a row-major `Float32Array` in TransformerLens' layout (`hookPoints` gives
 * the shapes): `[B, T, D]` is the fast model's `[N, D]`, `hook_z` `[B, T, H, E]` its `[N, H·E]`.
 *
 * Shape letters: B batch, T pos, N = B·T, D d_model, H n_heads, E d_head.
 *
 * @module
 */

import type { AttentionDims } from "./attention.ts";
import { layerNormForward, type LayerNormParams } from "./layernorm.ts";
import { mm } from "./linear.ts";

/**
 * Where the fast forward pass hands each hook's activation: `engine/model/cpu_forward.ts`'s
 * `HookSite` for f32 arrays. `at` is called only for names `wants`; it returns `value` itself
 * (unedited; the pass may go on to overwrite it, so a site that keeps it copies it) or a new array
 * of the same length that the rest of the pass reads.
 *
 * @example
 * ```ts
 * import type { FastHookSite } from "./hooks.ts";
 * const kept = new Map<string, Float32Array>();
 * const site: FastHookSite = {
 *   at: (name, value) => (kept.set(name, value.slice()), value),
 *   wants: (name) => name.endsWith("hook_resid_post"),
 * };
 * ```
 */
export interface FastHookSite {
  at(name: string, value: Float32Array): Float32Array;
  wants(name: string): boolean;
}

/** A pass's hook site and the block or LayerNorm a helper works in (`blocks.0`, `ln_final`). */
export type At = [prefix: string, site: FastHookSite | undefined];

/**
 * `value` through `site` where it wants `name`, else `value` itself.
 *
 * @example
 * ```ts
 * import { through } from "./hooks.ts";
 * const x = new Float32Array([1]);
 * through(undefined, "hook_embed", x) === x; // true
 * ```
 */
export function through(
  site: FastHookSite | undefined,
  name: string,
  value: Float32Array,
): Float32Array {
  return site?.wants(name) ? site.at(name, value) : value;
}

/**
 * `hook_embed` `W_E[tok]` and `hook_pos_embed` `W_pos[t]` of `tokens [B, T]`, each `[N, D]`,
 * through `hook`.
 *
 * @example
 * ```ts
 * import { embeddings } from "./hooks.ts";
 * const W_E = new Float32Array([0, 0, 1, 1]), W_pos = new Float32Array([10, 20, 30, 40]);
 * const { embed, pos } = embeddings({ W_E, W_pos, D: 2, T: 2 }, new Int32Array([1, 0]), undefined);
 * embed; // Float32Array [1, 1, 0, 0]
 * pos; // Float32Array [10, 20, 30, 40]
 * ```
 */
export function embeddings(
  { W_E, W_pos, D, T }: { W_E: Float32Array; W_pos: Float32Array; D: number; T: number },
  tokens: Int32Array,
  site: FastHookSite | undefined,
): { embed: Float32Array; pos: Float32Array } {
  const N = tokens.length;
  const embed = new Float32Array(N * D); // [N, D]
  const pos = new Float32Array(N * D); // [N, D]
  for (let n = 0; n < N; n++) {
    const tok = tokens[n]!;
    embed.set(W_E.subarray(tok * D, (tok + 1) * D), n * D);
    const t = n % T;
    pos.set(W_pos.subarray(t * D, (t + 1) * D), n * D);
  }
  return {
    embed: through(site, "hook_embed", embed),
    pos: through(site, "hook_pos_embed", pos),
  };
}

/**
 * LayerNorm `prefix` of `x [N, D]` with `hook_scale` `[N, 1]` (`sqrt(var + eps)`) and
 * `hook_normalized` `[N, D]` through `hook`; an edited scale divides the centred `x`, as in
 * TransformerLens. Returns the output and the statistics the backward reads.
 *
 * @example
 * ```ts
 * import { layerNormHooked } from "./hooks.ts";
 * const p = { w: new Float32Array([1, 1]), b: new Float32Array(2), eps: 1e-5 };
 * layerNormHooked(new Float32Array([1, 3]), p, ["ln_final", undefined]).y; // ≈ [-1, 1]
 * ```
 */
export function layerNormHooked(
  x: Float32Array,
  p: LayerNormParams,
  [prefix, site]: At,
): ReturnType<typeof layerNormForward> {
  const out = layerNormForward(x, p);
  const name = `${prefix}.hook_scale`;
  if (site?.wants(name)) {
    const scale = Float32Array.from(out.rstd, (r) => 1 / r); // [N, 1]
    const s = site.at(name, scale);
    if (s === scale) return { ...out, y: through(site, `${prefix}.hook_normalized`, out.y) };
    const D = p.w.length;
    for (let i = 0; i < x.length; i++) {
      const r = Math.floor(i / D), d = i % D;
      out.y[i] = ((x[i]! - out.mean[r]!) / s[r]!) * p.w[d]! + p.b[d]!;
    }
  }
  return { ...out, y: through(site, `${prefix}.hook_normalized`, out.y) };
}

/**
 * `hook_q`, `hook_k` and `hook_v` of block `b`, each `[N, H, E]`, taken from `qkv [N, 3·H·E]`
 * where wanted and written back when a hook replaced them.
 *
 * @example
 * ```ts
 * import { qkvHooks } from "./hooks.ts";
 * const qkv = new Float32Array([1, 2, 3]); // N 1, H 1, E 1
 * const site = { at: (_n: string, v: Float32Array) => v.map(() => 9), wants: (n: string) => n.endsWith("_k") };
 * qkvHooks(qkv, { B: 1, T: 1, H: 1, E: 1 }, ["blocks.0", site]);
 * qkv; // Float32Array [1, 9, 3]
 * ```
 */
export function qkvHooks(
  qkv: Float32Array,
  dims: AttentionDims,
  [b, site]: At,
): void {
  const HE = dims.H * dims.E;
  const N = qkv.length / (3 * HE);
  ["q", "k", "v"].forEach((n, s) => {
    const name = `${b}.attn.hook_${n}`;
    if (!site?.wants(name)) return;
    const part = new Float32Array(N * HE); // [N, H, E]
    for (let r = 0; r < N; r++) {
      part.set(qkv.subarray(r * 3 * HE + s * HE, r * 3 * HE + (s + 1) * HE), r * HE);
    }
    const out = site.at(name, part);
    if (out === part) return;
    for (let r = 0; r < N; r++) qkv.set(out.subarray(r * HE, (r + 1) * HE), r * 3 * HE + s * HE);
  });
}

/**
 * `hook_attn_scores` (scaled `q·k`, -Infinity after the query) and `hook_pattern`, each
 * `[B, H, T, T]`, formed only where the site wants either (the tiled attention never holds them);
 * returns `z [N, H·E]` again from the pattern when either was replaced, else `z` as the tiled
 * attention computed it.
 *
 * @example
 * ```ts
 * import { attentionHooks } from "./hooks.ts";
 * const qkv = new Float32Array([0, 0, 1, 0, 0, 3]); // B 1, T 2, H 1, E 1
 * const z = new Float32Array([1, 2]);
 * const seen: Float32Array[] = [];
 * const site = { at: (_n: string, v: Float32Array) => (seen.push(v), v), wants: () => true };
 * attentionHooks({ qkv, z }, { B: 1, T: 2, H: 1, E: 1 }, ["blocks.0", site]);
 * seen[1]; // the pattern: Float32Array [1, 0, 0.5, 0.5]
 * ```
 */
export function attentionHooks(
  { qkv, z }: { qkv: Float32Array; z: Float32Array },
  dims: AttentionDims,
  [b, site]: At,
): Float32Array {
  const names = [`${b}.attn.hook_attn_scores`, `${b}.attn.hook_pattern`] as const;
  if (!site || !names.some((n) => site.wants(n))) return z;
  const { B, T, H, E } = dims;
  const HE = H * E;
  const scale = 1 / Math.sqrt(E);
  const scores = new Float32Array(B * H * T * T); // [B, H, T, T]
  for (let bb = 0; bb < B; bb++) {
    for (let h = 0; h < H; h++) {
      const base = bb * T * 3 * HE + h * E;
      const off = (bb * H + h) * T * T;
      mm(
        { data: scores, off, ld: T },
        { data: qkv, off: base, ld: 3 * HE },
        { data: qkv, off: base + HE, ld: 3 * HE, t: true },
        { m: T, k: E, n: T },
      );
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          const at = off + i * T + j;
          scores[at] = j > i ? -Infinity : scores[at]! * scale;
        }
      }
    }
  }
  const s = through(site, names[0], scores);
  const pattern = softmaxRows(s, T); // [B, H, T, T]
  const p = through(site, names[1], pattern);
  if (s === scores && p === pattern) return z;
  const out = new Float32Array(B * T * HE); // [N, H·E] = p @ v per head
  for (let bb = 0; bb < B; bb++) {
    for (let h = 0; h < H; h++) {
      mm(
        { data: out, off: bb * T * HE + h * E, ld: HE },
        { data: p, off: (bb * H + h) * T * T, ld: T },
        { data: qkv, off: bb * T * 3 * HE + 2 * HE + h * E, ld: 3 * HE },
        { m: T, k: T, n: E },
      );
    }
  }
  return out;
}

/**
 * `hook_result` `[N, H, D]` (each head's `z[h] @ W_O[h]`) through the site, and `hook_attn_out`'s
 * value before its hook: their sum over heads plus `b_O`. The forward pass calls it only where the
 * site wants the result (it is H times the size of the output).
 *
 * @example
 * ```ts
 * import { headResults } from "./hooks.ts";
 * // N 1, H 2, E 1, D 1: z = [1, 2], W_O = [3, 4], b_O = [5]
 * const W = { W_O: new Float32Array([3, 4]), b_O: new Float32Array([5]), H: 2 };
 * headResults(new Float32Array([1, 2]), W, ["blocks.0", undefined]); // Float32Array [16]
 * ```
 */
export function headResults(
  z: Float32Array,
  { W_O, b_O, H }: { W_O: Float32Array; b_O: Float32Array; H: number },
  [b, site]: At,
): Float32Array {
  const D = b_O.length;
  const E = W_O.length / (H * D);
  const N = z.length / (H * E);
  const result = new Float32Array(N * H * D); // [N, H, D]
  for (let h = 0; h < H; h++) {
    mm(
      { data: result, off: h * D, ld: H * D },
      { data: z, off: h * E, ld: H * E },
      { data: W_O, off: h * E * D, ld: D },
      { m: N, k: E, n: D },
    );
  }
  const r = through(site, `${b}.attn.hook_result`, result);
  const out = new Float32Array(N * D); // [N, D]
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      let sum = b_O[d]!;
      for (let h = 0; h < H; h++) sum += r[(n * H + h) * D + d]!;
      out[n * D + d] = sum;
    }
  }
  return out;
}

/** The softmax of each row of `T` of `x` (rows all -Infinity but the first, as masked scores). */
function softmaxRows(x: Float32Array, T: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let row = 0; row < x.length; row += T) {
    let max = -Infinity;
    for (let j = row; j < row + T; j++) max = Math.max(max, x[j]!);
    let sum = 0;
    for (let j = row; j < row + T; j++) {
      const e = Math.exp(x[j]! - max);
      out[j] = e;
      sum += e;
    }
    for (let j = row; j < row + T; j++) out[j] = out[j]! / sum;
  }
  return out;
}
