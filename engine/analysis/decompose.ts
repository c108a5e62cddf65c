/**
 * Direct logit attribution: the residual stream the unembedding reads, split into the parts each
 * component wrote (TransformerLens' `decompose_resid` with per-head results), each mapped to the
 * logits. The parts are exact: with no LayerNorm they add to the final residual, and with one the
 * final LayerNorm is applied to each part as TransformerLens' `apply_ln_to_stack` does (centre
 * the part, divide by the cached `ln_final.hook_scale`, times `w`), a linear map whose sum is the
 * LayerNorm's output less its `b`, which joins `b_U` in the `bias` entry. So the attributions sum
 * to the model's logits up to rounding, and `logitAttribution` reports by how much they miss.
 *
 * Everything is computed in float64 whatever the cache's dtype (a GPU cache is f32), one
 * component `[B, D]` at a time so that a batch of every example fits.
 *
 * Shape letters: B batch, T pos, D d_model, H n_heads, E d_head, U d_vocab_out, C components.
 *
 * @module
 */

import { add, matmul, normalizeIndex, slice, take, Tensor, transpose } from "../tensor/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { normWeights } from "../model/norm.ts";

/** What `logitAttribution` may be told. */
export interface LogitAttributionOptions {
  /** The position to attribute; negative counts from the end. Default -1, the last (scored) one. */
  pos?: number;
  /** `[B]`: one token per row; then each component's contribution to that token's logit only. */
  targets?: Int32Array;
}

/** What `logitAttribution` returns. */
export interface LogitAttribution {
  /**
   * `[C]`: `embed`, `pos_embed` (not in a shortformer model, whose residual stream holds no
   * positions), per layer `L{l}H{h}`..., `L{l} b_O`, `L{l} MLP`, then `bias`.
   */
  labels: string[];
  /** `[C, B, U]`, or `[C, B]` with `targets`: each component's direct effect on the logits. */
  values: Tensor;
  /** `[B, U]`, or `[B]` with `targets`: the sum of `values` over the components. */
  logits: Tensor;
  /**
   * max |Σ components − the model's logits at `pos`| (those of the targets when given). The
   * model's logits are recomputed from the cache: `ln_final.hook_normalized` (with LayerNorm) or
   * the last `hook_resid_post`, times `W_U`, plus `b_U`. About 1e-15 on an f64 cache, 1e-6 on f32.
   */
  error: number;
}

/**
 * The hooks `logitAttribution` reads, so a caller caches only these: `hook_embed`,
 * `hook_pos_embed`, each layer's `attn.hook_z` and `hook_mlp_out` (not when `attn_only`), and what
 * the unembedding reads, to measure the error: `ln_final.hook_scale` and
 * `ln_final.hook_normalized` with LayerNorm, else the last `hook_resid_post`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { dlaHookNames } from "./decompose.ts";
 * dlaHookNames({ ...DEFAULT_MODEL, n_layers: 1 });
 * // ["hook_embed", "hook_pos_embed", "blocks.0.attn.hook_z", "blocks.0.hook_mlp_out",
 * //  "blocks.0.hook_resid_post"]
 * ```
 */
export function dlaHookNames(cfg: ModelConfig): string[] {
  // A shortformer's positions are not in the residual stream: no pos_embed component.
  const names = cfg.positional_embedding_type === "standard"
    ? ["hook_embed", "hook_pos_embed"]
    : ["hook_embed"];
  for (let l = 0; l < cfg.n_layers; l++) {
    names.push(`blocks.${l}.attn.hook_z`);
    if (!cfg.attn_only) names.push(`blocks.${l}.hook_mlp_out`);
  }
  if (cfg.normalization_type !== null) {
    names.push("ln_final.hook_scale", "ln_final.hook_normalized");
  } else {
    names.push(`blocks.${cfg.n_layers - 1}.hook_resid_post`);
  }
  return names;
}

/**
 * Direct logit attribution at position `pos` (default the last): each component's part of the
 * final residual stream, through the final LayerNorm (as `apply_ln_to_stack`, with the cached
 * scale, so exactly linear) and the unembedding. The components, in order: `embed`, `pos_embed`
 * (standard positions only);
 * per layer each head `L{l}H{h}` (`hook_z[:, pos, h] · W_O[h]`), the attention bias `L{l} b_O`
 * and, unless `attn_only`, `L{l} MLP` (`hook_mlp_out`, its `b_out` included); last `bias`
 * (`b_U`, plus `ln_final.b · W_U` with LayerNorm). With `targets` only each row's target logit is
 * computed, so a batch of every example costs `[C, B]` rather than `[C, B, U]`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuForward } from "../model/cpu_forward.ts";
 * import { logitAttribution } from "./decompose.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const { cache } = cpuForward(cfg, weights, new Int32Array([3, 5, 113]), 1, { cache: true });
 * const dla = logitAttribution(cfg, weights, cache!, { targets: new Int32Array([8]) });
 * dla.labels; // ["embed", "pos_embed", "L0H0", "L0H1", "L0 b_O", "L0 MLP", "bias"]
 * dla.values.shape; // [7, 1]
 * dla.error; // about 1e-18: rounding only
 * ```
 */
export function logitAttribution(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  cache: Map<string, Tensor>,
  options: LogitAttributionOptions = {},
): LogitAttribution {
  const pos = positionOf(cache, options.pos ?? -1);
  const B = cache.get("hook_embed")!.shape[0]!;
  const { targets } = options;
  if (targets !== undefined) checkTargets(cfg, targets, B);
  const W_U = readF64(weights, "unembed.W_U"); // [D, U]
  // With targets, each row reads only its target's column of W_U: [B, D].
  const directions = targets === undefined ? undefined : take(transpose(W_U), [...targets]);
  const toLogits = (part: Tensor) =>
    // [B, D] -> [B, U] or [B]
    directions === undefined ? matmul(part, W_U) : rowDots(part, directions);
  const finalLn = cfg.normalization_type !== null ? finalLnOf(cfg, weights, cache, pos) : undefined;

  const labels: string[] = [];
  const values: Tensor[] = [];
  for (const [label, part] of residComponents(cfg, weights, cache, pos)) {
    labels.push(label);
    values.push(toLogits(finalLn === undefined ? part : applyLnToStack(part, finalLn)));
  }
  labels.push("bias");
  values.push(biasLogits(weights, B, targets, finalLn && toLogits(broadcastRow(finalLn.b, B))));
  const sum = values.reduce((acc, v) => add(acc, v));
  const real = modelLogits(cfg, weights, cache, pos);
  const realAt = targets === undefined ? real : pick(real, targets);
  let error = 0;
  for (let i = 0; i < sum.size; i++) {
    error = Math.max(error, Math.abs(sum.data[i]! - realAt.data[i]!));
  }
  const C = values.length;
  const out = new Float64Array(C * sum.size);
  values.forEach((v, c) => out.set(v.data, c * sum.size));
  return { labels, values: new Tensor(out, [C, ...sum.shape]), logits: sum, error };
}

/**
 * The residual stream at `pos` of a `[B, T, D]` cache entry (or any `[B, T, ...]` one), as
 * `[B, D]` (or `[B, ...]`) in float64; negative `pos` counts from the end. A missing entry is an
 * error naming it and the hooks to cache.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { residAt } from "./decompose.ts";
 * const cache = new Map([["hook_embed", tensor([1, 2, 3, 4, 5, 6], [1, 3, 2], "f32")]]);
 * residAt(cache, "hook_embed", -1).toArray(); // Float64Array [5, 6]
 * ```
 */
export function residAt(cache: Map<string, Tensor>, name: string, pos: number): Tensor {
  const t = entry(cache, name);
  if (t.ndim < 2) throw new RangeError(`${name}: expected [batch, pos, ...], got [${t.shape}]`);
  // Slice before converting: an f32 cache is converted one position at a time.
  return asF64(slice(t, [null, normalizeIndex(pos, t.shape[1]!, { dim: 1, caller: name })]));
}

/**
 * A weight or cache entry by name in float64 (converted when the GPU gave f32); a missing one is
 * an error naming it.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { readF64 } from "./decompose.ts";
 * readF64(new Map([["unembed.b_U", tensor([1, 2], [2], "f32")]]), "unembed.b_U").dtype; // "f64"
 * ```
 */
export function readF64(map: Map<string, Tensor>, name: string): Tensor {
  return asF64(entry(map, name));
}

/**
 * `pos` made non-negative against the number of positions of the cache's `hook` (`[batch, pos,
 * ...]`, by default `hook_embed`); out of range is an error.
 *
 * @example
 * ```ts
 * import { zeros } from "../tensor/mod.ts";
 * import { positionOf } from "./decompose.ts";
 * positionOf(new Map([["hook_embed", zeros([2, 3, 8])]]), -1); // 2
 * ```
 */
export function positionOf(
  cache: Map<string, Tensor>,
  pos: number,
  hook = "hook_embed",
): number {
  const T = entry(cache, hook).shape[1]!;
  return normalizeIndex(pos, T, { dim: 1, caller: hook });
}

/** `map.get(name)`, or an error naming what to cache. */
function entry(map: Map<string, Tensor>, name: string): Tensor {
  const t = map.get(name);
  if (t === undefined) {
    throw new Error(`analysis: no ${name} in the cache (dlaHookNames, lensHookNames list them)`);
  }
  return t;
}

/** `t` in float64: itself, or a converted copy. */
function asF64(t: Tensor): Tensor {
  return t.dtype === "f64" ? t : t.astype("f64");
}

/** The final LayerNorm's weights and, per row, the cached scale at the position. */
interface FinalLn {
  /** `[D]` */
  w: Tensor;
  /** `[D]` */
  b: Tensor;
  /** `[B]`: `ln_final.hook_scale` at the position. */
  scale: Tensor;
}

/** `ln_final`'s `w`, `b` and cached scale at `pos`. */
function finalLnOf(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  cache: Map<string, Tensor>,
  pos: number,
): FinalLn {
  const scale = residAt(cache, "ln_final.hook_scale", pos); // [B, 1]
  const { w, b } = normWeights(cfg, (name) => readF64(weights, name), "ln_final")!;
  return {
    w,
    b,
    scale: scale.reshape([scale.shape[0]!]),
  };
}

/**
 * Each component's part of the residual stream at `pos`, `[B, D]`, in `logitAttribution`'s order,
 * one at a time. Their sum is the last `hook_resid_post` at `pos`.
 */
function* residComponents(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  cache: Map<string, Tensor>,
  pos: number,
): Generator<[string, Tensor]> {
  yield ["embed", residAt(cache, "hook_embed", pos)];
  if (cfg.positional_embedding_type === "standard") {
    yield ["pos_embed", residAt(cache, "hook_pos_embed", pos)];
  }
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    const z = residAt(cache, `${b}.attn.hook_z`, pos); // [B, H, E]
    const W_O = readF64(weights, `${b}.attn.W_O`); // [H, E, D]
    // Each head's result z[h]·W_O[h], as TransformerLens' hook_result, without the bias.
    for (let h = 0; h < cfg.n_heads; h++) {
      yield [`L${l}H${h}`, matmul(slice(z, [null, h]), slice(W_O, [h]))];
    }
    yield [`L${l} b_O`, broadcastRow(readF64(weights, `${b}.attn.b_O`), z.shape[0]!)];
    if (!cfg.attn_only) yield [`L${l} MLP`, residAt(cache, `${b}.hook_mlp_out`, pos)];
  }
}

/**
 * TransformerLens' `apply_ln_to_stack` for one part `x [B, D]`: `(x − mean_D x) / scale · w`.
 * Centring and scaling by the cached (whole-stream) scale are linear, so the parts still add up.
 */
function applyLnToStack(x: Tensor, ln: FinalLn): Tensor {
  const [B, D] = x.shape as [number, number];
  const out = new Float64Array(B * D);
  for (let r = 0; r < B; r++) {
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x.data[r * D + d]!;
    mean /= D;
    const inv = 1 / ln.scale.data[r]!;
    for (let d = 0; d < D; d++) {
      out[r * D + d] = (x.data[r * D + d]! - mean) * inv * ln.w.data[d]!;
    }
  }
  return new Tensor(out, [B, D]);
}

/** The `bias` entry: `b_U` (`[B, U]` or each target's `[B]`) plus the LayerNorm bias' logits. */
function biasLogits(
  weights: Map<string, Tensor>,
  B: number,
  targets: Int32Array | undefined,
  lnBias: Tensor | undefined,
): Tensor {
  const b_U = readF64(weights, "unembed.b_U"); // [U]
  const own = targets === undefined ? broadcastRow(b_U, B) : pick(b_U.reshape([1, -1]), targets);
  return lnBias === undefined ? own : add(own, lnBias);
}

/** The model's logits at `pos`, `[B, U]`, from what the unembedding read in the cache. */
function modelLogits(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  cache: Map<string, Tensor>,
  pos: number,
): Tensor {
  const x = residAt(cache, unembedHookName(cfg), pos); // [B, D]
  return add(matmul(x, readF64(weights, "unembed.W_U")), readF64(weights, "unembed.b_U"));
}

/**
 * The hook whose activation the unembedding reads: `ln_final.hook_normalized` with LayerNorm (its
 * `w`, `b` applied), else the last layer's `hook_resid_post`. Times `W_U` plus `b_U`, it gives the
 * model's logits at every position.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { unembedHookName } from "./decompose.ts";
 * unembedHookName(DEFAULT_MODEL); // "blocks.0.hook_resid_post": no LayerNorm
 * ```
 */
export function unembedHookName(cfg: ModelConfig): string {
  return cfg.normalization_type !== null
    ? "ln_final.hook_normalized"
    : `blocks.${cfg.n_layers - 1}.hook_resid_post`;
}

/** `[B, D]` of the row vector `v [D]` repeated. */
function broadcastRow(v: Tensor, B: number): Tensor {
  const out = new Float64Array(B * v.size);
  for (let r = 0; r < B; r++) out.set(v.data, r * v.size);
  return new Tensor(out, [B, v.size]);
}

/** `[B]`: `Σ_d x[r, d] · y[r, d]` per row. */
function rowDots(x: Tensor, y: Tensor): Tensor {
  const [B, D] = x.shape as [number, number];
  const out = new Float64Array(B);
  for (let r = 0; r < B; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += x.data[r * D + d]! * y.data[r * D + d]!;
    out[r] = s;
  }
  return new Tensor(out, [B]);
}

/** `[B]`: `logits[r, targets[r]]` (row 0 for every r when `logits` has one row). */
function pick(logits: Tensor, targets: Int32Array): Tensor {
  const U = logits.shape[1]!;
  const rows = logits.shape[0]!;
  return new Tensor(
    Float64Array.from(targets, (t, r) => logits.data[(rows === 1 ? 0 : r) * U + t]!),
    [targets.length],
  );
}

/**
 * Throws unless `targets` holds one id in [0, d_vocab_out) per row of a batch of `B`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { checkTargets } from "./decompose.ts";
 * checkTargets(DEFAULT_MODEL, new Int32Array([0, 112]), 2); // passes
 * ```
 */
export function checkTargets(cfg: ModelConfig, targets: Int32Array, B: number): void {
  if (targets.length !== B) throw new RangeError(`targets: length ${targets.length}, batch ${B}`);
  const bad = targets.findIndex((t) => !(t >= 0 && t < cfg.d_vocab_out));
  if (bad >= 0) {
    throw new RangeError(`targets[${bad}] = ${targets[bad]} is outside [0, ${cfg.d_vocab_out})`);
  }
}
