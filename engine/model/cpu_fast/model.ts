/**
 * The whole transformer's loss and gradients in f32 on one CPU thread: the fast twin of
 * `engine/model/cpu_model.ts` (which stays the float64 reference this one is tested against).
 * Weights come and go as the flat f32 array of `params.ts` (gradients in the same layout), so a
 * trainer hands its parameters over without unflattening them.
 *
 * The loss is the contract of issue 12's item 1: `Σ_{r, t scored} rowWeights[r] · CE(r, t)`, where
 * `targets [B, T]` holds the id the logits at (r, t) must predict or `IGNORE` (-1).
 *
 * Shape letters: B batch, T pos (<= n_ctx), N = B·T rows, D d_model, H n_heads, E d_head,
 * M d_mlp, U d_vocab_out.
 *
 * @module
 */

import { IGNORE } from "../../data/task.ts";
import { type ModelConfig, validateModelConfig } from "../config.ts";
import { normArrays } from "../norm.ts";
import type { ParamLayout } from "../params.ts";
import { activationForward } from "./activation.ts";
import { type AttentionDims, attentionForward } from "./attention.ts";
import { backwardPass } from "./backward.ts";
import { crossEntropyForward } from "./cross_entropy.ts";
import {
  attentionHooks,
  embeddings,
  type FastHookSite,
  headResults,
  layerNormHooked,
  qkvHooks,
  through,
} from "./hooks.ts";
import type { LayerNormStats } from "./layernorm.ts";
import { linearForward } from "./linear.ts";
import { addPositions, positionsQk } from "./positions.ts";

/** What `fastLossAndGrads` returns. */
export interface FastLossAndGrads {
  /** `Σ_{r, t scored} rowWeights[r] · CE(r, t)`. */
  loss: number;
  /** The gradient of `loss`, flat in the layout (0 for weights that do not train). */
  grads: Float32Array;
  /** `[B, T, U]` */
  logits: Float32Array;
}

/** One block's activations, as the backward reads them (kept by `forwardPass`). */
export interface BlockSaved {
  /** `[N, D]` */
  residPre: Float32Array;
  /** `[N, D]`: what q, k and v read (ln1's output, or `residPre` without LayerNorm). */
  x1: Float32Array;
  ln1?: LayerNormStats;
  /** `[N, 3·H·E]` */
  qkv: Float32Array;
  /** `[N, H·E]` */
  z: Float32Array;
  /** `[B, H, T]` */
  lse: Float32Array;
  mlp?: {
    /** `[N, D]` */
    residMid: Float32Array;
    x2: Float32Array;
    ln2?: LayerNormStats;
    /** `[N, M]`: `hook_post` and the activation's derivative at `hook_pre`. */
    post: Float32Array;
    grad: Float32Array;
  };
}

/** How `forwardPass` runs besides its inputs. */
export interface ForwardOptions {
  /** Each TransformerLens hook it wants goes through it (`hooks.ts`): the hooked f32 runner. */
  site?: FastHookSite;
  /**
   * Keep nothing for a backward (`saved` stays empty, each block's activations are dropped as the
   * next begins) and unembed only each row's last position (`logits` is `[B, U]`): a hooked
   * forward of many rows (a patching sweep's) holds one block at a time, not all of them.
   */
  forwardOnly?: boolean;
}

/** What the forward pass keeps: each block's activations, the final LayerNorm's, the logits. */
export interface ForwardPass {
  saved: BlockSaved[];
  /** `[N, D]`: the last block's `resid_post`. */
  resid: Float32Array;
  lnF?: LayerNormStats;
  /** `[N, D]`: what the unembedding reads. */
  xF: Float32Array;
  /** `[N, U]` (`[B, U]`, the last positions, with `forwardOnly`). */
  logits: Float32Array;
}

/**
 * The forward pass of `tokens [B, T]` (checked by the caller) through weights `W`, keeping what
 * the backward reads. With a `site`, each TransformerLens hook it wants goes through it in forward
 * order (`hooks.ts`), and the rest of the pass reads what it returns: the hooked f32 runner.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { forwardPass } from "./model.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const layout = paramLayout(cfg);
 * const params = initParams(cfg, layout);
 * const W = (name: string) => {
 *   const spec = layout.byName.get(name)!;
 *   return params.subarray(spec.offset, spec.offset + spec.size);
 * };
 * const { logits } = forwardPass(cfg, W, new Int32Array([3, 5, 113]), { B: 1, T: 3, H: 2, E: 4 });
 * logits.length; // 3 · 113
 * ```
 */
export function forwardPass(
  cfg: ModelConfig,
  W: (name: string) => Float32Array,
  tokens: Int32Array,
  dims: AttentionDims,
  options: ForwardOptions = {},
): ForwardPass {
  const { site, forwardOnly = false } = options;
  const { B, T } = dims;
  const { d_model: D } = cfg;
  const HE = dims.H * dims.E;
  // LayerNorm `prefix` of `x`, or undefined without one (LNPre: w = 1, b = 0).
  const norm = (prefix: string, x: Float32Array) => {
    const p = normArrays(cfg, W, prefix);
    return p && layerNormHooked(x, p, [prefix, site]);
  };
  const W_pos = W("pos_embed.W_pos");
  const { embed, pos } = embeddings({ W_E: W("embed.W_E"), W_pos, D, T }, tokens, site);
  // A shortformer's positions join q and k in each layer (positions.ts), not the residual.
  let resid = cfg.positional_embedding_type === "standard" ? addInto(embed, pos) : embed;
  const saved: BlockSaved[] = [];
  // One fused copy, refilled in each layer (the backward fuses its own): GPT-2 small's twelve
  // would hold 85 MB beside the weights.
  const Wqkv = new Float32Array(D * 3 * HE); // [D, 3·H·E]
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    const residPre = through(site, `${b}.hook_resid_pre`, resid);
    const ln1 = norm(`${b}.ln1`, residPre);
    const x1 = ln1?.y ?? residPre;
    fusedQkv(cfg, W, b, { into: Wqkv });
    const qkv = linearForward(x1, Wqkv, fusedQkvBias(cfg, W, b), D);
    const positions = positionsQk(cfg, W_pos, Wqkv, T);
    if (positions) addPositions(qkv, positions);
    qkvHooks(qkv, dims, [b, site]);
    const { z: tiled, lse } = attentionForward(qkv, dims);
    const z = through(site, `${b}.attn.hook_z`, attentionHooks({ qkv, z: tiled }, dims, [b, site]));
    const out = { W_O: W(`${b}.attn.W_O`), b_O: W(`${b}.attn.b_O`), H: dims.H };
    const attnOut = through(
      site,
      `${b}.hook_attn_out`,
      site?.wants(`${b}.attn.hook_result`)
        ? headResults(z, out, [b, site])
        : linearForward(z, out.W_O, out.b_O, HE),
    );
    const block: BlockSaved = { residPre, x1, qkv, z, lse, ...(ln1 ? { ln1 } : {}) };
    if (!forwardOnly) saved.push(block);
    if (cfg.attn_only) {
      resid = through(site, `${b}.hook_resid_post`, addInto(attnOut, residPre));
      continue;
    }
    const residMid = through(site, `${b}.hook_resid_mid`, addInto(attnOut, residPre));
    const ln2 = norm(`${b}.ln2`, residMid);
    const x2 = ln2?.y ?? residMid;
    const pre = through(
      site,
      `${b}.mlp.hook_pre`,
      linearForward(x2, W(`${b}.mlp.W_in`), W(`${b}.mlp.b_in`), D),
    );
    const act = activationForward(pre, cfg.act_fn);
    const post = through(site, `${b}.mlp.hook_post`, act.post);
    const mlpOut = through(
      site,
      `${b}.hook_mlp_out`,
      linearForward(post, W(`${b}.mlp.W_out`), W(`${b}.mlp.b_out`), cfg.d_mlp),
    );
    block.mlp = { residMid, x2, post, grad: act.grad, ...(ln2 ? { ln2 } : {}) };
    resid = through(site, `${b}.hook_resid_post`, addInto(mlpOut, residMid));
  }
  const lnF = norm("ln_final", resid);
  const xF = lnF?.y ?? resid;
  const unembedded = forwardOnly ? lastRows(xF, B, D) : xF; // [B, D] or [N, D]
  const logits = linearForward(unembedded, W("unembed.W_U"), W("unembed.b_U"), D);
  return { saved, resid, xF, logits, ...(lnF ? { lnF } : {}) };
}

/** `[B, D]`: the last position's row of each of the B rows of `x [B·T, D]`. */
function lastRows(x: Float32Array, B: number, D: number): Float32Array {
  const T = x.length / (B * D);
  const out = new Float32Array(B * D);
  for (let b = 0; b < B; b++) out.set(x.subarray((b * T + T - 1) * D, (b * T + T) * D), b * D);
  return out;
}

/**
 * The loss at every scored position and the gradient of every weight, in f32.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { fastLossAndGrads } from "./model.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const layout = paramLayout(cfg);
 * const tokens = new Int32Array([3, 5, 113, 7, 1, 113]);
 * const targets = new Int32Array([-1, -1, 8, -1, -1, 8]); // the last position of each row
 * const { loss, grads } = fastLossAndGrads(cfg, layout, initParams(cfg, layout), {
 *   tokens,
 *   targets,
 *   rowWeights: new Float64Array([0.5, 0.5]),
 *   batch: 2,
 * });
 * loss; // about ln 113 = 4.73 at initialisation
 * ```
 */
export function fastLossAndGrads(
  cfg: ModelConfig,
  layout: ParamLayout,
  params: Float32Array,
  data: { tokens: Int32Array; targets: Int32Array; rowWeights: Float64Array; batch: number },
): FastLossAndGrads {
  const { tokens, targets, rowWeights, batch: B } = data;
  const T = checkInputs(cfg, layout, params, data);
  const W = (name: string) => viewOf(layout, params, name);
  const grads = new Float32Array(layout.size);
  const G = (name: string) => viewOf(layout, grads, name);
  const dims: AttentionDims = { B, T, H: cfg.n_heads, E: cfg.d_head };
  const pass = forwardPass(cfg, W, tokens, dims);
  const { loss, dlogits } = crossEntropyForward(pass.logits, targets, rowWeights);
  backwardPass(cfg, { ...pass, W, tokens, dims }, { dlogits, G });
  for (const spec of layout.specs) {
    if (!spec.trainable) grads.fill(0, spec.offset, spec.offset + spec.size);
  }
  return { loss, grads, logits: pass.logits };
}

/** A weight by TransformerLens name, as a view of the flat array. */
export type View = (name: string) => Float32Array;

/**
 * `[D, 3·H·E]`: `W_Q|W_K|W_V` (each `[H, D, E]`) side by side, so one product gives q, k, v;
 * written into `options.into` (that size) where given, a new array otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { fusedQkv, viewOf } from "./model.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const params = initParams(DEFAULT_MODEL, layout);
 * fusedQkv(DEFAULT_MODEL, (n) => viewOf(layout, params, n), "blocks.0").length; // 128 · 3 · 128
 * ```
 */
export function fusedQkv(
  cfg: ModelConfig,
  W: View,
  b: string,
  options: { into?: Float32Array } = {},
): Float32Array {
  const { d_model: D, n_heads: H, d_head: E } = cfg;
  const out = options.into ?? new Float32Array(D * 3 * H * E);
  ["Q", "K", "V"].forEach((n, s) => {
    const w = W(`${b}.attn.W_${n}`);
    for (let h = 0; h < H; h++) {
      for (let d = 0; d < D; d++) {
        const from = (h * D + d) * E;
        out.set(w.subarray(from, from + E), d * 3 * H * E + s * H * E + h * E);
      }
    }
  });
  return out;
}

/**
 * `[3·H·E]`: `b_Q|b_K|b_V`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { fusedQkvBias, viewOf } from "./model.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const params = initParams(DEFAULT_MODEL, layout);
 * fusedQkvBias(DEFAULT_MODEL, (n) => viewOf(layout, params, n), "blocks.0").length; // 3 · 128
 * ```
 */
export function fusedQkvBias(cfg: ModelConfig, W: View, b: string): Float32Array {
  const HE = cfg.n_heads * cfg.d_head;
  const out = new Float32Array(3 * HE);
  ["Q", "K", "V"].forEach((n, s) => out.set(W(`${b}.attn.b_${n}`), s * HE));
  return out;
}

/**
 * `into += from`, elementwise; returns `into`.
 *
 * @example
 * ```ts
 * import { addInto } from "./model.ts";
 * addInto(new Float32Array([1, 2]), new Float32Array([3, 4])); // Float32Array [4, 6]
 * ```
 */
export function addInto<A extends Float32Array>(into: A, from: Float32Array): A {
  for (let i = 0; i < into.length; i++) into[i] = into[i]! + from[i]!;
  return into;
}

/**
 * The weight `name` of the flat array, a view.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { initParams, paramLayout } from "../params.ts";
 * import { viewOf } from "./model.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * viewOf(layout, initParams(DEFAULT_MODEL, layout), "unembed.W_U").length; // 128 · 113
 * ```
 */
export function viewOf(layout: ParamLayout, flat: Float32Array, name: string): Float32Array {
  const spec = layout.byName.get(name);
  if (spec === undefined) throw new Error(`cpu_fast: no weight ${name} in the layout`);
  return flat.subarray(spec.offset, spec.offset + spec.size);
}

/**
 * Checks the inputs of `fastLossAndGrads` or `fastEval` (which has no `rowWeights`), throwing a
 * one-line `RangeError`; returns T.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../config.ts";
 * import { paramLayout } from "../params.ts";
 * import { checkInputs } from "./model.ts";
 * const layout = paramLayout(DEFAULT_MODEL);
 * const data = { tokens: new Int32Array(6), targets: new Int32Array(6), batch: 2 };
 * checkInputs(DEFAULT_MODEL, layout, new Float32Array(layout.size), data); // 3
 * ```
 */
export function checkInputs(
  cfg: ModelConfig,
  layout: ParamLayout,
  params: Float32Array,
  data: { tokens: Int32Array; targets: Int32Array; rowWeights?: Float64Array; batch: number },
): number {
  validateModelConfig(cfg);
  const { tokens, targets, rowWeights, batch } = data;
  if (params.length !== layout.size) {
    throw new RangeError(`params: length ${params.length}, expected the layout's ${layout.size}`);
  }
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`batch must be a positive integer, got ${batch}`);
  }
  const T = tokens.length / batch;
  if (!Number.isInteger(T) || T < 1 || T > cfg.n_ctx) {
    throw new RangeError(
      `tokens: length ${tokens.length} is not batch ${batch} × pos with 1 <= pos <= n_ctx ${cfg.n_ctx}`,
    );
  }
  const badToken = tokens.findIndex((t) => t < 0 || t >= cfg.d_vocab);
  if (badToken >= 0) {
    throw new RangeError(
      `tokens[${badToken}] = ${tokens[badToken]} is outside [0, d_vocab ${cfg.d_vocab})`,
    );
  }
  if (targets.length !== tokens.length) {
    throw new RangeError(
      `targets: length ${targets.length}, expected batch × pos ${tokens.length}`,
    );
  }
  const bad = targets.findIndex((t) => t !== IGNORE && (t < 0 || t >= cfg.d_vocab_out));
  if (bad >= 0) {
    throw new RangeError(
      `targets[${bad}] = ${
        targets[bad]
      } is neither IGNORE (-1) nor in [0, d_vocab_out ${cfg.d_vocab_out})`,
    );
  }
  if (rowWeights !== undefined && rowWeights.length !== batch) {
    throw new RangeError(`rowWeights: length ${rowWeights.length}, expected batch ${batch}`);
  }
  return T;
}
