/**
 * The fast f32 model's backward pass, from the gradient of its logits: the weights' gradients for
 * the trainer (`fastLossAndGrads`), and the residual stream's and each head's `hook_z`'s gradients
 * for attribution patching (`f32Runner`'s `runWithGrads`, which skips the weights' products).
 *
 * Shape letters: B batch, T pos, N = B·T rows, D d_model, H n_heads, E d_head, U d_vocab_out.
 *
 * @module
 */

import type { ModelConfig } from "../config.ts";
import { normArrays } from "../norm.ts";
import { attentionBackward, type AttentionDims } from "./attention.ts";
import { layerNormBackward, type LayerNormStats } from "./layernorm.ts";
import { linearBackward, linearInputGrad } from "./linear.ts";
import { addInto, type ForwardPass, fusedQkv, type View } from "./model.ts";
import { positionsQkBackward } from "./positions.ts";

/** What `backwardPass` reads: a forward pass with its weights, tokens and sizes. */
export type BackwardInputs = ForwardPass & { W: View; tokens: Int32Array; dims: AttentionDims };

/** Where `backwardPass` writes: into `G` (the weights' gradients, added to), and/or `onGrad`. */
export interface BackwardOutputs {
  /** `[N, U]`: the gradient of the metric with respect to the logits. */
  dlogits: Float32Array;
  /** The weights' gradients by name, added to; without it no weight gradient is formed. */
  G?: View;
  /**
   * Called with the gradient `[N, D]` (`[N, H·E]` for `attn.hook_z`) of each of
   * `blocks.L.hook_resid_post|hook_mlp_out|hook_resid_mid|hook_attn_out|attn.hook_z|hook_resid_pre`
   * as the pass reaches it; the array is the pass's own, overwritten later: copy what you keep.
   */
  onGrad?: (name: string, grad: Float32Array) => void;
}

/**
 * The backward of `forwardPass` from `dlogits`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { backwardPass } from "./backward.ts";
 * import { forwardPass, viewOf } from "./model.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const layout = paramLayout(cfg);
 * const params = initParams(cfg, layout);
 * const W = (n: string) => viewOf(layout, params, n);
 * const tokens = new Int32Array([3, 5, 113]);
 * const dims = { B: 1, T: 3, H: 2, E: 4 };
 * const pass = forwardPass(cfg, W, tokens, dims);
 * const grads = new Map<string, Float32Array>();
 * backwardPass(cfg, { ...pass, W, tokens, dims }, {
 *   dlogits: new Float32Array(3 * 113).fill(1),
 *   onGrad: (name, g) => grads.set(name, g.slice()),
 * });
 * grads.get("blocks.0.attn.hook_z")?.length; // 3 · 8
 * ```
 */
export function backwardPass(
  cfg: ModelConfig,
  pass: BackwardInputs,
  { dlogits, G, onGrad }: BackwardOutputs,
): void {
  const { saved, resid, lnF, xF, W, tokens, dims } = pass;
  const { B, T, H, E } = dims;
  const { d_model: D } = cfg;
  const N = B * T;
  const HE = H * E;
  // dx of `y = x @ W[w] + W[bias]`, and the weights' gradients where there is a G
  const linear = (x: Float32Array, [w, bias]: [string, string], dy: Float32Array) =>
    G
      ? linearBackward({ x, W: W(w), dy }, { dW: G(w), db: G(bias) })
      : linearInputGrad(W(w), dy, W(bias).length);
  const dxF = linear(xF, ["unembed.W_U", "unembed.b_U"], dlogits);
  const dresid: Float32Array = lnF ? new Float32Array(N * D) : dxF;
  if (lnF) layerNormBack(resid, lnF, dxF, dresid, [cfg, "ln_final", W, G]);
  const Wqkv = new Float32Array(D * 3 * HE); // [D, 3·H·E], refilled in each layer
  for (let l = cfg.n_layers - 1; l >= 0; l--) {
    const b = `blocks.${l}`;
    const s = saved[l]!;
    onGrad?.(`${b}.hook_resid_post`, dresid);
    if (s.mlp) {
      // dresid is dresid_post, which also flows straight on to dresid_mid
      onGrad?.(`${b}.hook_mlp_out`, dresid);
      const dpost = linear(s.mlp.post, [`${b}.mlp.W_out`, `${b}.mlp.b_out`], dresid);
      for (let i = 0; i < dpost.length; i++) dpost[i] = dpost[i]! * s.mlp.grad[i]!;
      const dx2 = linear(s.mlp.x2, [`${b}.mlp.W_in`, `${b}.mlp.b_in`], dpost);
      if (s.mlp.ln2) layerNormBack(s.mlp.residMid, s.mlp.ln2, dx2, dresid, [cfg, `${b}.ln2`, W, G]);
      else addInto(dresid, dx2);
      onGrad?.(`${b}.hook_resid_mid`, dresid);
    }
    onGrad?.(`${b}.hook_attn_out`, dresid);
    const dz = linear(s.z, [`${b}.attn.W_O`, `${b}.attn.b_O`], dresid);
    onGrad?.(`${b}.attn.hook_z`, dz);
    const dqkv = attentionBackward({ qkv: s.qkv, z: s.z, lse: s.lse, dz }, dims);
    fusedQkv(cfg, W, b, { into: Wqkv });
    let dx1: Float32Array;
    if (G) {
      const dWqkv = new Float32Array(D * 3 * HE);
      const dbqkv = new Float32Array(3 * HE);
      dx1 = linearBackward({ x: s.x1, W: Wqkv, dy: dqkv }, { dW: dWqkv, db: dbqkv });
      if (cfg.positional_embedding_type === "shortformer") {
        const inputs = { dqkv, W_pos: W("pos_embed.W_pos"), Wqkv, T, D };
        positionsQkBackward(inputs, { dWqkv, dW_pos: G("pos_embed.W_pos") });
      }
      unfuseQkv(cfg, G, b, dWqkv, dbqkv);
    } else dx1 = linearInputGrad(Wqkv, dqkv, 3 * HE);
    if (s.ln1) layerNormBack(s.residPre, s.ln1, dx1, dresid, [cfg, `${b}.ln1`, W, G]);
    else addInto(dresid, dx1);
    onGrad?.(`${b}.hook_resid_pre`, dresid);
  }
  if (G === undefined) return;
  const dW_E = G("embed.W_E"), dW_pos = G("pos_embed.W_pos");
  const posResid = cfg.positional_embedding_type === "standard";
  for (let n = 0; n < N; n++) {
    const tok = tokens[n]!, t = n % T;
    for (let d = 0; d < D; d++) {
      dW_E[tok * D + d] = dW_E[tok * D + d]! + dresid[n * D + d]!;
      if (posResid) dW_pos[t * D + d] = dW_pos[t * D + d]! + dresid[n * D + d]!;
    }
  }
}

/**
 * LayerNorm `prefix`'s backward, its input gradient added to `dresid`, its weights' gradients into
 * `G` (thrown away without one, or with LNPre, whose w = 1 and b = 0 are not weights).
 */
function layerNormBack(
  x: Float32Array,
  stats: LayerNormStats,
  dy: Float32Array,
  dresid: Float32Array,
  [cfg, prefix, W, G]: [ModelConfig, string, View, View | undefined],
): void {
  const { w } = normArrays(cfg, W, prefix)!;
  const keep = G !== undefined && cfg.normalization_type === "LN";
  layerNormBackward({ x, w, stats, dy }, {
    dx: dresid,
    dw: keep ? G(`${prefix}.w`) : new Float32Array(w.length),
    db: keep ? G(`${prefix}.b`) : new Float32Array(w.length),
  });
}

/** The fused gradients back into `W_Q|W_K|W_V` and `b_Q|b_K|b_V`. */
function unfuseQkv(cfg: ModelConfig, G: View, b: string, dW: Float32Array, db: Float32Array) {
  const { d_model: D, n_heads: H, d_head: E } = cfg;
  ["Q", "K", "V"].forEach((n, s) => {
    const g = G(`${b}.attn.W_${n}`);
    for (let h = 0; h < H; h++) {
      for (let d = 0; d < D; d++) {
        const from = d * 3 * H * E + s * H * E + h * E;
        g.set(dW.subarray(from, from + E), (h * D + d) * E);
      }
    }
    G(`${b}.attn.b_${n}`).set(db.subarray(s * H * E, (s + 1) * H * E));
  });
}
