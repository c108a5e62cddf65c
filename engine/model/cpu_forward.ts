/**
 * The whole transformer's forward pass in float64 on the CPU: TransformerLens'
 * `HookedTransformer` with its weight names, shapes and hook points (`run_with_cache`,
 * `run_with_hooks`), assembled from the per-layer references in `engine/reference/`. It is the
 * reference the GPU model is held to, and it records the trace that the backward in
 * `cpu_model.ts` reads, so it favours one readable line per step over speed.
 *
 * Shape letters: B batch, T pos (<= n_ctx), D d_model, H n_heads, E d_head, M d_mlp,
 * U d_vocab_out.
 *
 * @module
 */

import {
  activationForward,
  attentionForward,
  layernormForward,
  type LayerNormSaved,
} from "../reference/mod.ts";
import {
  add,
  div,
  einsum,
  mul,
  reduce,
  repeat,
  slice,
  softmax,
  sub,
  take,
  Tensor,
} from "../tensor/mod.ts";
import { type ModelConfig, validateModelConfig } from "./config.ts";
import { normWeights } from "./norm.ts";
import { paramLayout } from "./params.ts";

/**
 * Where a forward pass hands each hook's activation, in forward order: TransformerLens' hook
 * functions as one object. The rest of the pass reads what `at` returns, so an edit of `hook_q`
 * reaches the pattern, one of `hook_pattern` reaches `z`; returning `value` itself means "unedited",
 * and the pass then goes on exactly as without hooks.
 *
 * @example
 * ```ts
 * import type { HookSite } from "./cpu_forward.ts";
 * const seen: string[] = [];
 * const site: HookSite = { at: (name, value) => (seen.push(name), value), wants: () => false };
 * ```
 */
export interface HookSite {
  /** The activation of hook `name` as computed; returns what the rest of the pass reads. */
  at(name: string, value: Tensor): Tensor;
  /** Whether to compute a hook the pass otherwise skips: `attn.hook_result`, which is big. */
  wants(name: string): boolean;
}

/** What `cpuForward` may keep besides the logits, and how it may be hooked. */
export interface CpuForwardOptions {
  /** Return every hook point's activation (TransformerLens' `run_with_cache`); default false. */
  cache?: boolean;
  /** Every hook's activation goes through `hooks` (`run_with_hooks`); `cache` records its edits. */
  hooks?: HookSite;
}

/** What `cpuForward` returns. */
export interface CpuForwardResult {
  /** `[B, T, U]` */
  logits: Tensor;
  /** TransformerLens hook name → activation in TransformerLens' shape; only when asked for. */
  cache?: Map<string, Tensor>;
}

/**
 * One forward pass, all that the backward in `cpu_model.ts` reads (from `traceForward`).
 *
 * @example
 * ```ts
 * import type { Trace } from "./cpu_forward.ts";
 * function finalResid(trace: Trace) {
 *   return trace.final; // [B, T, D]
 * }
 * ```
 */
export interface Trace {
  /** Every hook as the pass read it (filled by `recorder`; empty when hooked without a cache). */
  hooks: Map<string, Tensor>;
  /** LayerNorm prefix (`blocks.0.ln1`, `ln_final`) → its per-row mean and scale. */
  ln: Map<string, LayerNormSaved>;
  /** `[B, T]` of the token ids. */
  tokens: Tensor;
  /** `[B, T, D]`: what the unembedding reads (`ln_final.hook_normalized` or the last resid). */
  final: Tensor;
  /** `[B, T, U]` */
  logits: Tensor;
}

/** What each step of the forward pass reads: the config, weights, hook site and LayerNorm saves. */
interface Pass {
  cfg: ModelConfig;
  W: Weights;
  site: HookSite;
  ln: Map<string, LayerNormSaved>;
  /** `[B, T, D]`: `hook_pos_embed`, which a shortformer model adds to each layer's q and k inputs. */
  pos: Tensor;
}

/**
 * A weight by name, or an error naming it (the layout check makes this unreachable); made by
 * `checkedWeights`.
 *
 * @example
 * ```ts
 * import type { Weights } from "./cpu_forward.ts";
 * function unembed(W: Weights) {
 *   return W("unembed.W_U"); // [D, U]
 * }
 * ```
 */
export type Weights = (name: string) => Tensor;

/**
 * The logits of `batch` rows of `tokens` (row-major `[batch, pos]`, pos <= n_ctx), and with
 * `{ cache: true }` every TransformerLens hook: `hook_embed`, `hook_pos_embed`,
 * `blocks.L.hook_resid_pre`, `blocks.L.ln1.hook_scale|hook_normalized` (with LN),
 * `blocks.L.attn.hook_q|hook_k|hook_v|hook_z` `[B, T, H, E]`,
 * `blocks.L.attn.hook_attn_scores|hook_pattern` `[B, H, T, T]`, `blocks.L.hook_attn_out`, then
 * unless `attn_only` `blocks.L.hook_resid_mid`, `blocks.L.ln2.*`, `blocks.L.mlp.hook_pre|hook_post`
 * `[B, T, M]`, `blocks.L.hook_mlp_out`; `blocks.L.hook_resid_post`; `ln_final.*`. As in
 * TransformerLens, `hook_scale` is `[B, T, 1]` and `hook_normalized` is the LayerNorm's output
 * (after `w` and `b`), and an attention-only block has no `hook_resid_mid`.
 *
 * With `hooks`, each activation goes through `hooks.at` before the rest of the pass reads it (the
 * hooked runner's `run_with_hooks`, `engine/hooks/`), and where `hooks.wants` it, each head's
 * output `blocks.L.attn.hook_result` `[B, T, H, D]` comes between `hook_z` and `hook_attn_out`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { cpuForward } from "./cpu_forward.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const tokens = new Int32Array([3, 5, 113, 7, 1, 113]); // two rows [x, y, =]
 * const { logits, cache } = cpuForward(cfg, weights, tokens, 2, { cache: true });
 * logits.shape; // [2, 3, 113]
 * cache?.get("blocks.0.attn.hook_pattern")?.shape; // [2, 2, 3, 3]
 * ```
 */
export function cpuForward(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  tokens: Int32Array,
  batch: number,
  options: CpuForwardOptions = {},
): CpuForwardResult {
  const cache = options.cache ? new Map<string, Tensor>() : undefined;
  const site = cache ? recorder(cache, options.hooks) : options.hooks ?? UNHOOKED;
  const { logits } = forward(cfg, checkedWeights(cfg, weights), tokens, batch, site);
  return cache ? { logits, cache } : { logits };
}

/**
 * The model's linear maps in einops' notation, `x, W -> y`. Each one's bias has the axes of `W`
 * that `x` lacks (`b_Q [head, d_head]`, `b_O [d_model]`, ...), so one pattern gives the forward
 * pass here and all three gradients (`linearBackward` in `cpu_model.ts`).
 *
 * @example
 * ```ts
 * import { LINEAR } from "./cpu_forward.ts";
 * LINEAR.MLP_IN; // "batch pos d_model, d_model d_mlp -> batch pos d_mlp"
 * ```
 */
export const LINEAR = {
  QKV: "batch pos d_model, head d_model d_head -> batch pos head d_head",
  ATTN_OUT: "batch pos head d_head, head d_head d_model -> batch pos d_model",
  MLP_IN: "batch pos d_model, d_model d_mlp -> batch pos d_mlp",
  MLP_OUT: "batch pos d_mlp, d_mlp d_model -> batch pos d_model",
  UNEMBED: "batch pos d_model, d_model d_vocab_out -> batch pos d_vocab_out",
} as const;
const { QKV, ATTN_OUT, MLP_IN, MLP_OUT, UNEMBED } = LINEAR;

/** Z = "batch head q_pos k_pos, batch k_pos head d_head -> batch q_pos head d_head"; as TL's. */
const Z = "b h i j, b j h e -> b i h e";
/** Each head's share of `hook_attn_out` (TransformerLens' `use_attn_result`). */
const RESULT = "batch pos head d_head, head d_head d_model -> batch pos head d_model";

/** The site of a pass with no hooks: every activation as computed. */
const UNHOOKED: HookSite = { at: (_name, value) => value, wants: () => false };

/**
 * A hook site that records what `inner` (default: nothing) returns into `hooks`: the cache of
 * `run_with_cache`, and everything the backward pass reads.
 */
function recorder(hooks: Map<string, Tensor>, inner?: HookSite): HookSite {
  return {
    at(name, value) {
      const out = inner === undefined ? value : inner.at(name, value);
      hooks.set(name, out);
      return out;
    },
    wants: (name) => inner?.wants(name) ?? false,
  };
}

/**
 * `hook_embed` (`W_E[tok]`) and `hook_pos_embed` (`W_pos[:T]` for every row) of `tokens`
 * `[B, T]`, each `[B, T, D]`: rows of the weights, so the GPU runner, whose embedding kernel writes
 * only their sum, takes them from here too.
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { embeddingHooks } from "./cpu_forward.ts";
 * const W_E = tensor([0, 0, 1, 1, 2, 2], [3, 2]);
 * const W_pos = tensor([10, 10, 20, 20], [2, 2]);
 * const { hook_embed, hook_pos_embed } = embeddingHooks(W_E, W_pos, tensor([2, 1], [1, 2], "i32"));
 * hook_embed.toNested(); // [[[2, 2], [1, 1]]]
 * hook_pos_embed.toNested(); // [[[10, 10], [20, 20]]]
 * ```
 */
export function embeddingHooks(
  W_E: Tensor,
  W_pos: Tensor,
  tokens: Tensor,
): { hook_embed: Tensor; hook_pos_embed: Tensor } {
  const [B, T] = tokens.shape as [number, number];
  return {
    hook_embed: take(W_E, tokens), // [B, T, D]
    hook_pos_embed: repeat(slice(W_pos, `:${T}`), "pos d_model -> batch pos d_model", {
      batch: B,
    }),
  };
}

/** The forward pass, every hook through `site`. */
function forward(
  cfg: ModelConfig,
  W: Weights,
  ids: Int32Array,
  batch: number,
  site: HookSite,
): Omit<Trace, "hooks"> {
  const tokens = checkedTokens(cfg, ids, batch);
  const hooks = embeddingHooks(W("embed.W_E"), W("pos_embed.W_pos"), tokens);
  const embed = site.at("hook_embed", hooks.hook_embed);
  const pos = site.at("hook_pos_embed", hooks.hook_pos_embed);
  const pass: Pass = { cfg, W, site, ln: new Map(), pos };
  // [B, T, D]: W_E[tok] + W_pos[t], the same sum as embedForward; a shortformer's holds no W_pos
  let resid = cfg.positional_embedding_type === "shortformer" ? embed : add(embed, pos);
  for (let l = 0; l < cfg.n_layers; l++) resid = blockForward(pass, l, resid);
  const final = layerNorm(pass, "ln_final", resid);
  const logits = linearForward(UNEMBED, final, W("unembed.W_U"), W("unembed.b_U")); // [B, T, U]
  return { ln: pass.ln, tokens, final, logits };
}

/**
 * The forward pass with every hook recorded: all that the backward reads. `W` comes from
 * `checkedWeights`, so a caller can check the weights (and its own inputs) before the tokens.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { checkedWeights, traceForward } from "./cpu_forward.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const W = checkedWeights(cfg, unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg))));
 * const trace = traceForward(cfg, W, new Int32Array([3, 5, 113]), 1);
 * trace.hooks.get("blocks.0.hook_resid_post")?.shape; // [1, 3, 8]
 * ```
 */
export function traceForward(
  cfg: ModelConfig,
  W: Weights,
  tokens: Int32Array,
  batch: number,
): Trace {
  const hooks = new Map<string, Tensor>();
  return { ...forward(cfg, W, tokens, batch, recorder(hooks)), hooks };
}

/** One block's forward: `resid_pre` in, `resid_post` out, every hook through the site. */
function blockForward(pass: Pass, l: number, input: Tensor): Tensor {
  const { cfg, W, site } = pass;
  const b = `blocks.${l}`;
  const resid = site.at(`${b}.hook_resid_pre`, input);
  const inputs = qkvInputs(cfg, layerNorm(pass, `${b}.ln1`, resid), pass.pos);
  const [q, k, v] = (["Q", "K", "V"] as const).map((n) =>
    site.at(
      `${b}.attn.hook_${n.toLowerCase()}`,
      linearForward(QKV, inputs[n], W(`${b}.attn.W_${n}`), W(`${b}.attn.b_${n}`)),
    )
  ) as [Tensor, Tensor, Tensor]; // [B, T, H, E]
  const z = attention(pass, b, [q, k, v]); // [B, T, H, E]
  const attnOut = site.at(`${b}.hook_attn_out`, attentionOutput(pass, b, z)); // [B, T, D]
  if (cfg.attn_only) {
    // TransformerLens has no resid_mid here either
    return site.at(`${b}.hook_resid_post`, add(resid, attnOut));
  }
  const mid = site.at(`${b}.hook_resid_mid`, add(resid, attnOut));
  const x2 = layerNorm(pass, `${b}.ln2`, mid);
  const pre = site.at(
    `${b}.mlp.hook_pre`,
    linearForward(MLP_IN, x2, W(`${b}.mlp.W_in`), W(`${b}.mlp.b_in`)),
  ); // [B, T, M]
  const post = site.at(`${b}.mlp.hook_post`, activationForward(pre, { act: cfg.act_fn }));
  const mlpOut = site.at(
    `${b}.hook_mlp_out`,
    linearForward(MLP_OUT, post, W(`${b}.mlp.W_out`), W(`${b}.mlp.b_out`)),
  ); // [B, T, D]
  return site.at(`${b}.hook_resid_post`, add(mid, mlpOut));
}

/**
 * What `W_Q`, `W_K` and `W_V` read, each `[B, T, D]`, from ln1's output `x` and `hook_pos_embed`
 * `pos`: `x` for all three, except that a shortformer model's queries and keys read `x + pos`
 * (TransformerLens adds it after ln1; the values never see it). The backward reads the same.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { tensor } from "../tensor/mod.ts";
 * import { qkvInputs } from "./cpu_forward.ts";
 * const cfg = { ...DEFAULT_MODEL, positional_embedding_type: "shortformer" as const };
 * const { Q, V } = qkvInputs(cfg, tensor([1, 2], [1, 1, 2]), tensor([10, 20], [1, 1, 2]));
 * Q.toNested(); // [[[11, 22]]]
 * V.toNested(); // [[[1, 2]]]
 * ```
 */
export function qkvInputs(
  cfg: ModelConfig,
  x: Tensor,
  pos: Tensor,
): { Q: Tensor; K: Tensor; V: Tensor } {
  const qk = cfg.positional_embedding_type === "shortformer" ? add(x, pos) : x;
  return { Q: qk, K: qk, V: x };
}

/**
 * Scores, pattern and `z` of block `b` through the site; each is recomputed from the one before
 * only when an edit replaced that one, so an unedited pass is the reference's, bit for bit.
 */
function attention(pass: Pass, b: string, [q, k, v]: [Tensor, Tensor, Tensor]): Tensor {
  const { site } = pass;
  const { scores, pattern, z } = attentionForward(q, k, v); // [B, H, T, T], z [B, T, H, E]
  const s = site.at(`${b}.attn.hook_attn_scores`, scores);
  const p = site.at(`${b}.attn.hook_pattern`, s === scores ? pattern : softmax(s, -1));
  return site.at(`${b}.attn.hook_z`, p === pattern ? z : einsum(Z, p, v));
}

/**
 * `Σ_h z[h]·W_O[h] + b_O` `[B, T, D]`; through each head's `hook_result` `[B, T, H, D]` only
 * when the site wants it, as it is H times the size of the output.
 */
function attentionOutput(pass: Pass, b: string, z: Tensor): Tensor {
  const { W, site } = pass;
  const [W_O, b_O] = [W(`${b}.attn.W_O`), W(`${b}.attn.b_O`)];
  const name = `${b}.attn.hook_result`;
  if (!site.wants(name)) return linearForward(ATTN_OUT, z, W_O, b_O);
  const result = site.at(name, einsum(RESULT, z, W_O));
  return add(reduce(result, "batch pos head d_model -> batch pos d_model", "sum"), b_O);
}

/**
 * LayerNorm `prefix` of `x` when the model has LayerNorm or LNPre (`hook_scale` and `hook_normalized`
 * through the site), else `x` itself. An edited scale divides the centred `x`, as in TL.
 */
function layerNorm(pass: Pass, prefix: string, x: Tensor): Tensor {
  const { cfg, W, site } = pass;
  const norm = normWeights(cfg, W, prefix); // LNPre: w = 1, b = 0
  if (norm === undefined) return x;
  const { w, b, eps } = norm;
  const { y, mean, scale } = layernormForward(x, w, b, { eps });
  pass.ln.set(prefix, { mean, scale });
  const kept = scale.reshape([...scale.shape, 1]); // [B, T, 1]
  const s = site.at(`${prefix}.hook_scale`, kept);
  if (s === kept) return site.at(`${prefix}.hook_normalized`, y);
  const centred = sub(x, mean.reshape([...mean.shape, 1])); // [B, T, D]
  return site.at(`${prefix}.hook_normalized`, add(mul(div(centred, s), w), b));
}

/** `einsum(pattern, x, W) + b`. */
function linearForward(pattern: string, x: Tensor, W: Tensor, b: Tensor): Tensor {
  return add(einsum(pattern, x, W), b);
}

/**
 * Every weight of the layout present with its shape, as f64 (a float64 reference throughout),
 * looked up by name.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { checkedWeights } from "./cpu_forward.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const W = checkedWeights(cfg, unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg))));
 * W("embed.W_E").shape; // [114, 8]: d_vocab (113 and "=") by d_model
 * ```
 */
export function checkedWeights(cfg: ModelConfig, weights: Map<string, Tensor>): Weights {
  validateModelConfig(cfg);
  const out = new Map<string, Tensor>();
  for (const spec of paramLayout(cfg).specs) {
    const t = weights.get(spec.name);
    if (t === undefined) throw new RangeError(`weights: missing ${spec.name}`);
    if (t.shape.join() !== spec.shape.join()) {
      throw new RangeError(
        `weights: ${spec.name} has shape [${t.shape}], expected [${spec.shape}]`,
      );
    }
    out.set(spec.name, t.dtype === "f64" ? t : t.astype("f64"));
  }
  return (name) => {
    const t = out.get(name);
    if (t === undefined) throw new Error(`cpu_forward: no weight ${name} in the layout`);
    return t;
  };
}

/** `[B, T]` of `ids`, with 1 <= T <= n_ctx and every id in the vocabulary. */
function checkedTokens(cfg: ModelConfig, ids: Int32Array, batch: number): Tensor {
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`batch must be a positive integer, got ${batch}`);
  }
  const T = ids.length / batch;
  if (!Number.isInteger(T) || T < 1 || T > cfg.n_ctx) {
    throw new RangeError(
      `tokens: length ${ids.length} is not batch ${batch} × pos with 1 <= pos <= n_ctx ${cfg.n_ctx}`,
    );
  }
  const bad = ids.findIndex((t) => t < 0 || t >= cfg.d_vocab);
  if (bad >= 0) {
    throw new RangeError(`tokens[${bad}] = ${ids[bad]} is outside [0, d_vocab ${cfg.d_vocab})`);
  }
  return new Tensor(ids, [batch, T]);
}
