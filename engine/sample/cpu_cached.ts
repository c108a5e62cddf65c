/**
 * The cached CPU source: the f32 model of `engine/model/cpu_fast/` run one position at a time,
 * each layer keeping the keys and values of every position so far. A push embeds one token, and
 * per layer projects its q, k and v (one sweep over `W_Q`, `W_K`, `W_V` where they lie), appends
 * k and v to the cache, attends from q over the cached positions, and runs the MLP on one row:
 * O(T) work, where the uncached source's is O(T²).
 *
 * Shape letters: T positions so far, D d_model, H n_heads, E d_head, U d_vocab_out.
 *
 * @module
 */

import type { ModelConfig } from "../model/config.ts";
import { activationForward } from "../model/cpu_fast/activation.ts";
import { layerNormForward } from "../model/cpu_fast/layernorm.ts";
import { linearForward } from "../model/cpu_fast/linear.ts";
import { addInto, fusedQkv, fusedQkvBias, type View, viewOf } from "../model/cpu_fast/model.ts";
import { normArrays } from "../model/norm.ts";
import { positionsQk } from "../model/cpu_fast/positions.ts";
import type { ParamLayout } from "../model/params.ts";
import { checkPush, type TokenModel } from "./source.ts";

/** One layer's q|k|v biases and its cache. */
interface Layer {
  /** `[3·H·E]` */
  bqkv: Float32Array;
  /** `[n_ctx, 3·H·E]`: a shortformer's positions in q and k (`positionsQk`); else undefined. */
  positions: Float32Array | undefined;
  /** `[n_ctx, H·E]` each: the keys and values of every position so far. */
  k: Float32Array;
  v: Float32Array;
}

/**
 * A `TokenModel` over the flat f32 weights `params` with a key-value cache.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout } from "../model/params.ts";
 * import { CpuCachedModel } from "./cpu_cached.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const model = new CpuCachedModel(DEFAULT_MODEL, layout, initParams(DEFAULT_MODEL, layout));
 * model.push(3);
 * model.push(5).length; // 113: the logits predicting the third token
 * ```
 */
export class CpuCachedModel implements TokenModel {
  readonly nCtx: number;
  readonly #cfg: ModelConfig;
  readonly #W: (name: string) => Float32Array;
  readonly #layers: Layer[] = [];
  #length = 0;

  constructor(cfg: ModelConfig, layout: ParamLayout, params: Float32Array) {
    this.nCtx = cfg.n_ctx;
    this.#cfg = cfg;
    const W = (name: string) => viewOf(layout, params, name);
    this.#W = W;
    const HE = cfg.n_heads * cfg.d_head;
    for (let l = 0; l < cfg.n_layers; l++) {
      const b = `blocks.${l}`;
      // A shortformer's table needs the fused weights once; the pushes read W_Q, W_K, W_V.
      const positions = cfg.positional_embedding_type === "shortformer"
        ? positionsQk(cfg, W("pos_embed.W_pos"), fusedQkv(cfg, W, b), cfg.n_ctx)
        : undefined;
      this.#layers.push({
        bqkv: fusedQkvBias(cfg, W, b),
        positions,
        k: new Float32Array(cfg.n_ctx * HE),
        v: new Float32Array(cfg.n_ctx * HE),
      });
    }
  }

  get length(): number {
    return this.#length;
  }

  push(token: number): Float32Array {
    const cfg = this.#cfg;
    const W = this.#W;
    checkPush({ length: this.#length, nCtx: this.nCtx, dVocab: cfg.d_vocab }, token);
    const t = this.#length++;
    const { d_model: D, n_heads: H, d_head: E } = cfg;
    const HE = H * E;
    // LayerNorm `prefix` of `x`, or `x` without one (LNPre: w = 1, b = 0).
    const norm = (prefix: string, x: Float32Array) => {
      const p = normArrays(cfg, W, prefix);
      return p ? layerNormForward(x, p).y : x;
    };
    const resid = new Float32Array(D); // [D]
    const W_E = W("embed.W_E"), W_pos = W("pos_embed.W_pos");
    const posResid = cfg.positional_embedding_type === "standard"; // else in q and k only
    for (let d = 0; d < D; d++) resid[d] = W_E[token * D + d]! + (posResid ? W_pos[t * D + d]! : 0);
    for (let l = 0; l < cfg.n_layers; l++) {
      const b = `blocks.${l}`;
      const layer = this.#layers[l]!;
      const x1 = norm(`${b}.ln1`, resid);
      const qkv = qkvRow(cfg, W, b, { x: x1, bqkv: layer.bqkv }); // [3·H·E]
      if (layer.positions) addInto(qkv, layer.positions.subarray(t * 3 * HE, (t + 1) * 3 * HE));
      layer.k.set(qkv.subarray(HE, 2 * HE), t * HE);
      layer.v.set(qkv.subarray(2 * HE), t * HE);
      const z = attendCached(qkv.subarray(0, HE), layer, { T: t + 1, H, E }); // [H·E]
      addInto(resid, linearForward(z, W(`${b}.attn.W_O`), W(`${b}.attn.b_O`), HE));
      if (cfg.attn_only) continue;
      const x2 = norm(`${b}.ln2`, resid);
      const pre = linearForward(x2, W(`${b}.mlp.W_in`), W(`${b}.mlp.b_in`), D); // [M]
      const { post } = activationForward(pre, cfg.act_fn);
      addInto(resid, linearForward(post, W(`${b}.mlp.W_out`), W(`${b}.mlp.b_out`), cfg.d_mlp));
    }
    const xF = norm("ln_final", resid);
    return linearForward(xF, W("unembed.W_U"), W("unembed.b_U"), D); // [U]
  }

  release(): void {}
}

/**
 * `q|k|v [3·H·E] = b_Q|b_K|b_V + x @ (W_Q|W_K|W_V)` for one row `x [D]`, each weight `[H, D, E]`
 * swept where it lies: the same sums, in the same order, as the one-row product with the fused
 * `[D, 3·H·E]` copy (`fusedQkv`), without holding that copy (85 MB for GPT-2 small).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { qkvRow } from "./cpu_cached.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 2, n_heads: 1, d_head: 1 };
 * // W_Q = [1, 2], W_K = [3, 4], W_V = [5, 6] (each [1, 2, 1]); x = [1, 10]
 * const W = (name: string) => new Float32Array({ Q: [1, 2], K: [3, 4], V: [5, 6] }[name.at(-1)!]!);
 * qkvRow(cfg, W, "blocks.0", { x: new Float32Array([1, 10]), bqkv: new Float32Array(3) });
 * // Float32Array [21, 43, 65]
 * ```
 */
export function qkvRow(
  cfg: ModelConfig,
  W: View,
  b: string,
  row: { x: Float32Array; bqkv: Float32Array },
): Float32Array {
  const { d_model: D, n_heads: H, d_head: E } = cfg;
  const y = Float32Array.from(row.bqkv);
  ["Q", "K", "V"].forEach((n, s) => {
    const w = W(`${b}.attn.W_${n}`); // [H, D, E]
    for (let h = 0; h < H; h++) {
      const out = (s * H + h) * E;
      for (let d = 0; d < D; d++) {
        const xd = row.x[d]!;
        const from = (h * D + d) * E;
        for (let e = 0; e < E; e++) y[out + e]! += xd * w[from + e]!;
      }
    }
  });
  return y;
}

/**
 * `z [H·E]`: each head's softmax over `q·k_j / √E` for the cached positions `j < T`, applied to
 * their values (the causal mask is the cache's end). Scores and sums in f64.
 *
 * @example
 * ```ts
 * import { attendCached } from "./cpu_cached.ts";
 * // H 1, E 1, T 2: q = 0 scores both keys equally, so z averages v = [1, 3]
 * const cache = { k: new Float32Array([0, 0]), v: new Float32Array([1, 3]) };
 * attendCached(new Float32Array([0]), cache, { T: 2, H: 1, E: 1 }); // Float32Array [2]
 * ```
 */
export function attendCached(
  q: Float32Array,
  cache: { k: Float32Array; v: Float32Array },
  dims: { T: number; H: number; E: number },
): Float32Array {
  const { T, H, E } = dims;
  const HE = H * E;
  const scale = 1 / Math.sqrt(E);
  const z = new Float32Array(HE);
  const scores = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    let max = -Infinity;
    for (let j = 0; j < T; j++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += q[h * E + e]! * cache.k[j * HE + h * E + e]!;
      scores[j] = s * scale;
      max = Math.max(max, scores[j]!);
    }
    let sum = 0;
    for (let j = 0; j < T; j++) sum += scores[j] = Math.exp(scores[j]! - max);
    const acc = new Float64Array(E);
    for (let j = 0; j < T; j++) {
      const p = scores[j]! / sum;
      for (let e = 0; e < E; e++) acc[e] = acc[e]! + p * cache.v[j * HE + h * E + e]!;
    }
    z.set(acc, h * E);
  }
  return z;
}
