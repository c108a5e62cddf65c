/**
 * TransformerLens' weight processing, as `HookedTransformer.from_pretrained` applies it by default
 * (`fold_ln`, `center_writing_weights`, `center_unembed`, `fold_value_biases`), on a model with
 * LayerNorm. None changes the model's log-probabilities:
 *
 * - **fold LayerNorm**: each LayerNorm's `w` scales the rows of the weights that read it and its
 *   `b` moves into their biases (`b_Q += b·W_Q`, `W_Q *= w`; the same for K, V, `W_in`, `W_U`),
 *   then those weights are centred over d_model (the normalised input has zero mean, so the mean
 *   row never mattered). LayerNorm becomes `LNPre`: normalise only.
 * - **centre writing weights**: `W_E`, `W_pos`, `W_O`, `W_out` and `b_O`, `b_out` get zero mean over
 *   d_model: the next LayerNorm subtracts every row's mean anyway.
 * - **centre the unembedding**: `W_U` gets zero mean over the vocabulary and `b_U` zero mean: the
 *   softmax ignores a constant added to every logit.
 * - **fold value biases**: `b_V` moves into `b_O` (`b_O += Σ_h b_V[h]·W_O[h]`; each pattern row
 *   sums to 1, so a bias on every value reaches the output as this constant).
 *
 * Shape letters: V d_vocab, U d_vocab_out, C n_ctx, D d_model, H n_heads, E d_head, M d_mlp.
 *
 * @module
 */

import type { Tensor } from "../tensor/mod.ts";
import type { ModelConfig } from "./config.ts";

/**
 * The weights of `cfg` (TransformerLens names, LayerNorm `LN`) processed as TransformerLens'
 * `from_pretrained` does, and the config they go with (`normalization_type` `LNPre`). In place:
 * each tensor is rewritten in its own dtype (an import of GPT-2 small holds no second copy of its
 * 498 MB) and the LayerNorm weights leave the map; every mean and sum is accumulated in float64,
 * so f32 weights are rounded once per step. Pass float64 copies to process without rounding.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { processWeights } from "./process_weights.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16, normalization_type: "LN" as const };
 * const processed = processWeights(cfg, unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg))));
 * processed.cfg.normalization_type; // "LNPre"
 * processed.weights.has("ln_final.w"); // false
 * ```
 */
export function processWeights(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
): { cfg: ModelConfig; weights: Map<string, Tensor> } {
  if (cfg.normalization_type !== "LN") {
    throw new RangeError(
      `weight processing folds LayerNorm: normalization_type must be LN, got ${cfg.normalization_type}`,
    );
  }
  for (const [name, t] of weights) {
    if (t.dtype !== "f32" && t.dtype !== "f64") {
      throw new RangeError(`processWeights: ${name} is ${t.dtype}, expected f32 or f64`);
    }
  }
  foldLayerNorm(cfg, weights);
  centerWritingWeights(cfg, weights);
  centerUnembed(weights);
  foldValueBiases(cfg, weights);
  return { cfg: { ...cfg, normalization_type: "LNPre" }, weights };
}

/** A weight of `W` by name (the layout has them all). */
function get(W: Map<string, Tensor>, name: string): Tensor {
  const t = W.get(name);
  if (t === undefined) throw new RangeError(`processWeights: missing weight ${name}`);
  return t;
}

/** What the passes below read of a tensor: its elements and shape. */
type Shaped = Pick<Tensor, "data" | "shape">;

/**
 * `t` (f32 or f64) seen as `[outer, n, inner]` around `axis`: each of the three passes below is
 * one loop over it, where the tensor library's broadcasting would cost seconds on GPT-2's `W_E`.
 */
function around(
  t: Shaped,
  axis: number,
): { data: Float32Array | Float64Array; outer: number; n: number; inner: number } {
  const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return {
    data: t.data as Float32Array | Float64Array,
    outer: size(t.shape.slice(0, axis)),
    n: t.shape[axis]!,
    inner: size(t.shape.slice(axis + 1)),
  };
}

/**
 * In place: `t` minus its mean over `axis`, summed in float64. With a LayerNorm `ln` (`w`, `b`
 * `[n]`) first folded in: `ln.bias += Σ_k t[..., k, ...]·b[k]` (of `t` as it came) and
 * `t[..., k, ...] *= w[k]`, in the same pass as the sums. Two passes over `t` in all.
 */
function centre(t: Shaped, axis: number, ln?: { w: Tensor; b: Tensor; bias: Tensor }): void {
  const { data, outer, n, inner } = around(t, axis);
  const sums = new Float64Array(inner);
  const folded = ln === undefined ? undefined : new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    sums.fill(0);
    for (let k = 0; k < n; k++) {
      const at = base + k * inner;
      if (ln !== undefined) {
        const [w, b] = [ln.w.data[k]!, ln.b.data[k]!];
        for (let i = 0; i < inner; i++) {
          folded![o * inner + i]! += data[at + i]! * b;
          data[at + i]! *= w;
        }
      }
      for (let i = 0; i < inner; i++) sums[i]! += data[at + i]!;
    }
    for (let i = 0; i < inner; i++) sums[i]! /= n;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < inner; i++) data[base + k * inner + i]! -= sums[i]!;
    }
  }
  if (ln !== undefined) addInto(ln.bias, folded!);
}

/** `bias += sums`, in place (`bias` f32 or f64). */
function addInto(bias: Tensor, sums: Float64Array): void {
  const out = bias.data as Float32Array | Float64Array;
  for (let i = 0; i < out.length; i++) out[i]! += sums[i]!;
}

/**
 * Adds to `bias` (`t`'s shape without `axis`), in place, `Σ_k t[..., k, ...]·v[k]` over `axis`
 * (`v` `[n]`), summed in float64.
 */
function addContracted(bias: Tensor, t: Shaped, v: Tensor, axis: number): void {
  const { data, outer, n, inner } = around(t, axis);
  const sums = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const at = (o * n + k) * inner;
      const w = v.data[k]!;
      for (let i = 0; i < inner; i++) sums[o * inner + i]! += data[at + i]! * w;
    }
  }
  addInto(bias, sums);
}

/**
 * TransformerLens' `fold_layer_norm` (with `fold_biases` and `center_weights`): `ln1` into
 * `W_Q|W_K|W_V [H, D, E]` and their biases `[H, E]`, `ln2` into `W_in [D, M]`, `b_in [M]`,
 * `ln_final` into `W_U [D, U]`, `b_U [U]`; the LayerNorm weights are removed.
 */
function foldLayerNorm(cfg: ModelConfig, W: Map<string, Tensor>): void {
  // LayerNorm `ln` into `weight` (d_model on axis `axis`) and `bias`: b += Σ_d ln.b[d]·W[d],
  // W[d] *= ln.w[d], then W centred over d_model.
  const fold = (ln: string, weight: string, bias: string, axis: number) => {
    const [w, b] = [get(W, `${ln}.w`), get(W, `${ln}.b`)]; // [D]
    centre(get(W, weight), axis, { w, b, bias: get(W, bias) });
  };
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    for (const n of ["Q", "K", "V"]) {
      fold(`${b}.ln1`, `${b}.attn.W_${n}`, `${b}.attn.b_${n}`, 1); // [H, D, E]
    }
    if (!cfg.attn_only) fold(`${b}.ln2`, `${b}.mlp.W_in`, `${b}.mlp.b_in`, 0); // [D, M]
  }
  fold("ln_final", "unembed.W_U", "unembed.b_U", 0); // [D, U]
  for (const name of [...W.keys()]) {
    if (/(^|\.)ln(1|2|_final)\.[wb]$/.test(name)) W.delete(name);
  }
}

/**
 * TransformerLens' `center_writing_weights`: what writes to the residual stream has zero mean
 * over d_model (`W_E [V, D]`, `W_pos [C, D]`, `W_O [H, E, D]`, `b_O [D]`, `W_out [M, D]`,
 * `b_out [D]`).
 */
function centerWritingWeights(cfg: ModelConfig, W: Map<string, Tensor>): void {
  const names = ["embed.W_E", "pos_embed.W_pos"];
  for (let l = 0; l < cfg.n_layers; l++) {
    names.push(`blocks.${l}.attn.W_O`, `blocks.${l}.attn.b_O`);
    if (!cfg.attn_only) names.push(`blocks.${l}.mlp.W_out`, `blocks.${l}.mlp.b_out`);
  }
  for (const name of names) {
    const t = get(W, name);
    centre(t, t.ndim - 1);
  }
}

/** TransformerLens' `center_unembed`: `W_U [D, U]` zero mean over U, `b_U [U]` zero mean. */
function centerUnembed(W: Map<string, Tensor>): void {
  centre(get(W, "unembed.W_U"), 1);
  centre(get(W, "unembed.b_U"), 0);
}

/** TransformerLens' `fold_value_biases`: `b_O [D] += Σ_h b_V[h]·W_O[h]`, then `b_V [H, E]` = 0. */
function foldValueBiases(cfg: ModelConfig, W: Map<string, Tensor>): void {
  for (let l = 0; l < cfg.n_layers; l++) {
    const a = `blocks.${l}.attn`;
    const b_V = get(W, `${a}.b_V`); // [H, E]
    const W_O = get(W, `${a}.W_O`); // [H, E, D], read as [H·E, D]
    const flat = { data: W_O.data, shape: [W_O.shape[0]! * W_O.shape[1]!, W_O.shape[2]!] };
    addContracted(get(W, `${a}.b_O`), flat, b_V, 0);
    b_V.data.fill(0);
  }
}
