/**
 * The whole transformer's loss and backward in float64 on the CPU: the gradient of every
 * TransformerLens weight, read from the hooks that the forward pass in `cpu_forward.ts` records,
 * through the per-layer references in `engine/reference/`. It is the CPU training path and the
 * reference the GPU model's gradients are held to, so it favours one readable line per step over
 * speed.
 *
 * Shape letters: B batch, T pos (<= n_ctx), D d_model, H n_heads, E d_head, M d_mlp,
 * U d_vocab_out. The loss scores the positions whose target is not `IGNORE` (the answer token of
 * the algorithmic tasks, every position of a language model) and is the weighted sum
 * `Σ_r w_r · Σ_t loss_rt` over scored positions: `w_r` = 1 / (scored positions) for a plain mean,
 * the out-of-context experiment's `k1/k2/k3` spread over each group's positions for its mix.
 *
 * @module
 */

import {
  activationBackward,
  attentionBackward,
  crossEntropy,
  crossEntropyEval,
  embedBackward,
  layernormBackward,
} from "../reference/mod.ts";
import { IGNORE } from "../data/task.ts";
import { add, einsum, reduce, take, Tensor } from "../tensor/mod.ts";
import type { ModelConfig } from "./config.ts";
import {
  checkedWeights,
  cpuForward,
  LINEAR,
  qkvInputs,
  type Trace,
  traceForward,
  type Weights,
} from "./cpu_forward.ts";
import { hasNorm, normWeights } from "./norm.ts";
import { paramLayout } from "./params.ts";

const { QKV, ATTN_OUT, MLP_IN, MLP_OUT, UNEMBED } = LINEAR;

/** What `cpuLossAndGrads` returns. */
export interface CpuLossAndGradsResult {
  /** `Σ_r rowWeights[r] · Σ_t loss_rt` over the scored positions t of each row r. */
  loss: number;
  /** Weight name → gradient of `loss`, the weight's shape, in layout order; 0 where not trainable. */
  grads: Map<string, Tensor>;
  /** `[B, T, U]` */
  logits: Tensor;
}

/** What `cpuEval` returns: per position, 0 at the unscored ones. */
export interface CpuEvalResult {
  /** `[B, T]`: the unweighted cross-entropy at each scored position. */
  loss: Float64Array;
  /** `[B, T]`: 1 where the argmax (lowest index on ties) is the target, else 0. */
  correct: Float64Array;
}

/**
 * The weighted cross-entropy `Σ_r rowWeights[r] · Σ_t loss_rt` over the scored positions (targets
 * `[B, T]`, `IGNORE` elsewhere) and its gradient with respect to every weight (same names and
 * shapes, layout order). Biases that `trainable_biases`
 * holds fixed get a zero gradient; their values still enter the forward pass.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { cpuLossAndGrads } from "./cpu_model.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const tokens = new Int32Array([3, 5, 113, 7, 1, 113]);
 * const targets = new Int32Array([-1, -1, 8, -1, -1, 8]); // (3 + 5) and (7 + 1) mod 113 at "="
 * const rowWeights = new Float64Array([0.5, 0.5]); // the plain mean over 2 rows
 * const { loss, grads } = cpuLossAndGrads(cfg, weights, tokens, targets, rowWeights, 2);
 * loss; // about ln 113 = 4.73 at initialisation
 * grads.get("blocks.0.attn.b_Q")?.toArray(); // all 0: the grokking model trains only MLP biases
 * ```
 */
export function cpuLossAndGrads(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  tokens: Int32Array,
  targets: Int32Array,
  rowWeights: Float64Array,
  batch: number,
): CpuLossAndGradsResult {
  const W = checkedWeights(cfg, weights);
  if (rowWeights.length !== batch) {
    throw new RangeError(`rowWeights: length ${rowWeights.length}, expected batch ${batch}`);
  }
  const trace = traceForward(cfg, W, tokens, batch);
  const at = scoredAt(cfg, targets, trace.logits.shape);
  const w = at.map((i) => rowWeights[Math.floor(i / trace.tokens.shape[1]!)]!);
  const { loss, dlogits: dscored } = crossEntropy(
    take(flatLogits(trace.logits), at),
    new Tensor(Int32Array.from(at, (i) => targets[i]!), [at.length]),
    new Tensor(Float64Array.from(w), [at.length]),
  );
  let total = 0;
  for (let s = 0; s < at.length; s++) total += w[s]! * loss.data[s]!;
  const grads = backward(cfg, W, trace, scatter(dscored, at, trace.logits.shape));
  const ordered = new Map<string, Tensor>();
  for (const spec of paramLayout(cfg).specs) {
    const g = grads.get(spec.name)!;
    ordered.set(
      spec.name,
      spec.trainable ? g : new Tensor(new Float64Array(spec.size), spec.shape),
    );
  }
  return { loss: total, grads: ordered, logits: trace.logits };
}

/**
 * The cross-entropy at each scored position and whether its argmax is the target (0 at the
 * unscored ones), without gradients.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { cpuEval } from "./cpu_model.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const tokens = new Int32Array([3, 5, 113, 7, 1, 113]);
 * const targets = new Int32Array([-1, -1, 8, -1, -1, 8]);
 * const { loss, correct } = cpuEval(cfg, weights, tokens, targets, 2);
 * loss.length; // 6: loss[2] and loss[5] are the two answers', the rest 0
 * ```
 */
export function cpuEval(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  tokens: Int32Array,
  targets: Int32Array,
  batch: number,
): CpuEvalResult {
  const { logits } = cpuForward(cfg, weights, tokens, batch);
  const at = scoredAt(cfg, targets, logits.shape);
  const { loss, correct } = crossEntropyEval(
    take(flatLogits(logits), at),
    new Tensor(Int32Array.from(at, (i) => targets[i]!), [at.length]),
  );
  const out = { loss: new Float64Array(targets.length), correct: new Float64Array(targets.length) };
  at.forEach((i, s) => [out.loss[i], out.correct[i]] = [loss.data[s]!, correct.data[s]!]);
  return out;
}

/** What `cpuActivationGrads` returns. */
export interface CpuActivationGrads {
  /** `[B, T, U]` */
  logits: Tensor;
  /** Every hook of the forward pass by TransformerLens name (`traceForward`'s). */
  hooks: Map<string, Tensor>;
  /**
   * Hook name → the gradient of `Σ dlogits · logits` with respect to its activation, its shape:
   * `blocks.L.hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out|hook_mlp_out`
   * `[B, T, D]` and `blocks.L.attn.hook_z` `[B, T, H, E]` (`GRAD_HOOKS`).
   */
  grads: Map<string, Tensor>;
}

/**
 * TransformerLens' forward and backward caches (`get_cache_fwd_and_bwd`): one forward pass and
 * one backward pass from `dlogits` `[B, T, U]` (the gradient of a metric with respect to the
 * logits; for a logit difference at one position, +1 and −1 there), keeping the gradient that
 * reaches each residual-stream hook and each head's `hook_z` on the way, the same backward that
 * training runs.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "./config.ts";
 * import { initParams, paramLayout, unflatten } from "./params.ts";
 * import { cpuActivationGrads } from "./cpu_model.ts";
 * import { Tensor } from "../tensor/mod.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const dlogits = new Float64Array(3 * 113);
 * [dlogits[2 * 113 + 8], dlogits[2 * 113 + 9]] = [1, -1]; // logit 8 − logit 9 at position 2
 * const { grads } = cpuActivationGrads(cfg, weights, new Int32Array([3, 5, 113]), new Tensor(dlogits, [1, 3, 113]));
 * grads.get("blocks.0.attn.hook_z")?.shape; // [1, 3, 2, 4]
 * ```
 */
export function cpuActivationGrads(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  tokens: Int32Array,
  dlogits: Tensor,
): CpuActivationGrads {
  const W = checkedWeights(cfg, weights);
  const batch = dlogits.shape[0]!;
  const trace = traceForward(cfg, W, tokens, batch);
  if (dlogits.shape.join() !== trace.logits.shape.join()) {
    throw new RangeError(`dlogits: shape [${dlogits.shape}], expected [${trace.logits.shape}]`);
  }
  const grads = new Map<string, Tensor>();
  backward(cfg, W, trace, dlogits.astype("f64"), (name, g) => grads.set(name, g));
  return { logits: trace.logits, hooks: trace.hooks, grads };
}

/** What the backward pass reads and where it puts the weight gradients. */
interface Backward {
  cfg: ModelConfig;
  W: Weights;
  trace: Trace;
  grads: Map<string, Tensor>;
  hook: (name: string) => Tensor;
  /** Takes each residual hook's and `hook_z`'s gradient as it is reached. */
  record: (name: string, grad: Tensor) => void;
  /** `[B, T, D]`: a shortformer's `hook_pos_embed` gradient, summed over the layers' q and k. */
  dpos: Tensor | undefined;
}

/**
 * The backward pass from `dlogits [B, T, U]`: the gradient of every weight, trainable or not;
 * `record` sees the activations' gradients on the way.
 */
function backward(
  cfg: ModelConfig,
  W: Weights,
  trace: Trace,
  dlogits: Tensor,
  record: Backward["record"] = () => {},
) {
  const hook = hookOf(trace);
  const bw: Backward = { cfg, W, trace, grads: new Map(), hook, record, dpos: undefined };
  const dfinal = linearBackward(
    bw,
    ["unembed.W_U", "unembed.b_U"],
    [UNEMBED, trace.final],
    dlogits,
  );
  const last = bw.hook(`blocks.${cfg.n_layers - 1}.hook_resid_post`);
  let dresid = layerNormBackward(bw, ["ln_final", last], dfinal); // [B, T, D]
  for (let l = cfg.n_layers - 1; l >= 0; l--) dresid = blockBackward(bw, l, dresid);
  const sizes = { dVocab: cfg.d_vocab, nCtx: cfg.n_ctx };
  const { dW_E, dW_pos } = embedBackward(trace.tokens, dresid, sizes);
  // A shortformer's W_pos reaches the loss only through the q and k inputs, never the residual.
  const dpos = bw.dpos === undefined ? dW_pos : embedBackward(trace.tokens, bw.dpos, sizes).dW_pos;
  return bw.grads.set("embed.W_E", dW_E).set("pos_embed.W_pos", dpos);
}

/** One block's backward: `dresid_post` in, `dresid_pre` out, weight gradients into `bw.grads`. */
function blockBackward(bw: Backward, l: number, dout: Tensor): Tensor {
  const b = `blocks.${l}`;
  const { hook, record } = bw;
  record(`${b}.hook_resid_post`, dout);
  let dmid = dout; // the residual path carries dresid_post straight through
  if (!bw.cfg.attn_only) {
    record(`${b}.hook_mlp_out`, dout);
    const post = hook(`${b}.mlp.hook_post`);
    const dpost = linearBackward(bw, [`${b}.mlp.W_out`, `${b}.mlp.b_out`], [MLP_OUT, post], dout);
    const dpre = activationBackward(hook(`${b}.mlp.hook_pre`), dpost, { act: bw.cfg.act_fn });
    const x2 = lnOutput(bw, `${b}.ln2`, `${b}.hook_resid_mid`);
    const dx2 = linearBackward(bw, [`${b}.mlp.W_in`, `${b}.mlp.b_in`], [MLP_IN, x2], dpre);
    const mid = hook(`${b}.hook_resid_mid`);
    dmid = add(dout, layerNormBackward(bw, [`${b}.ln2`, mid], dx2));
    record(`${b}.hook_resid_mid`, dmid);
  }
  record(`${b}.hook_attn_out`, dmid);
  const z = hook(`${b}.attn.hook_z`);
  const dz = linearBackward(bw, [`${b}.attn.W_O`, `${b}.attn.b_O`], [ATTN_OUT, z], dmid);
  record(`${b}.attn.hook_z`, dz);
  const [q, k, v] = ["q", "k", "v"].map((n) => hook(`${b}.attn.hook_${n}`));
  const pattern = hook(`${b}.attn.hook_pattern`);
  const { dq, dk, dv } = attentionBackward({ q: q!, k: k!, v: v!, pattern, dz });
  const x = lnOutput(bw, `${b}.ln1`, `${b}.hook_resid_pre`);
  const inputs = qkvInputs(bw.cfg, x, hook("hook_pos_embed"));
  const [dxQ, dxK, dxV] = ([["Q", dq], ["K", dk], ["V", dv]] as const).map(([n, d]) =>
    linearBackward(bw, [`${b}.attn.W_${n}`, `${b}.attn.b_${n}`], [QKV, inputs[n]], d)
  ) as [Tensor, Tensor, Tensor];
  // x feeds q, k and v: its gradient is the sum of the three; a shortformer's pos feeds q and k.
  const dx = add(add(dxQ, dxK), dxV);
  if (bw.cfg.positional_embedding_type === "shortformer") {
    const dqk = add(dxQ, dxK);
    bw.dpos = bw.dpos === undefined ? dqk : add(bw.dpos, dqk);
  }
  const pre = hook(`${b}.hook_resid_pre`);
  const dpre = add(dmid, layerNormBackward(bw, [`${b}.ln1`, pre], dx));
  record(`${b}.hook_resid_pre`, dpre);
  return dpre;
}

/**
 * The backward of `y = einsum(pattern, x, W) + b`: `dW` and `db` (dy summed over every axis but
 * the bias') into `bw.grads` under `names`, and `dx` returned.
 */
function linearBackward(
  bw: Backward,
  names: [W: string, b: string],
  [pattern, x]: [string, Tensor],
  dy: Tensor,
): Tensor {
  const [inputs, ys] = pattern.split("->") as [string, string];
  const [xs, ws] = inputs.split(",").map((s) => s.trim()) as [string, string];
  const bs = ws.split(" ").filter((axis) => !xs.split(" ").includes(axis)).join(" ");
  bw.grads.set(names[0], einsum(`${xs}, ${ys} -> ${ws}`, x, dy));
  bw.grads.set(names[1], reduce(dy, `${ys} -> ${bs}`, "sum"));
  return einsum(`${ys}, ${ws} -> ${xs}`, dy, bw.W(names[0]));
}

/** LayerNorm `prefix`'s backward from `dy` to its input `x` (gradients of w, b into `grads`). */
function layerNormBackward(bw: Backward, [prefix, x]: [string, Tensor], dy: Tensor): Tensor {
  const norm = normWeights(bw.cfg, bw.W, prefix);
  if (norm === undefined) return dy;
  const saved = bw.trace.ln.get(prefix)!;
  const { dx, dw, db } = layernormBackward(x, norm.w, saved, dy);
  // LNPre has no w or b to train.
  if (bw.cfg.normalization_type === "LN") bw.grads.set(`${prefix}.w`, dw).set(`${prefix}.b`, db);
  return dx;
}

/** What the layer after LayerNorm `prefix` read: its output, or the residual it would normalise. */
function lnOutput(bw: Backward, prefix: string, resid: string): Tensor {
  return bw.hook(hasNorm(bw.cfg) ? `${prefix}.hook_normalized` : resid);
}

/** A hook of the trace by name. */
function hookOf(trace: Trace): (name: string) => Tensor {
  return (name) => {
    const t = trace.hooks.get(name);
    if (t === undefined) throw new Error(`cpu_model: no hook ${name} recorded`);
    return t;
  };
}

/** `[B·T, U]`: the logits `[B, T, U]` with a row per position. */
function flatLogits(logits: Tensor): Tensor {
  const [B, T, U] = logits.shape as [number, number, number];
  return new Tensor(logits.data, [B * T, U]);
}

/** `[B, T, U]` zeros but for `dscored [S, U]` at the flat positions `at`. */
function scatter(dscored: Tensor, at: number[], shape: readonly number[]): Tensor {
  const U = shape[2]!;
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1));
  at.forEach((i, s) => out.set(dscored.data.subarray(s * U, (s + 1) * U), i * U));
  return new Tensor(out, shape);
}

/**
 * The flat positions `b·T + t` whose target is scored, ascending; throws unless `targets` is
 * `[B, T]` of ids in [0, d_vocab_out) or `IGNORE`.
 */
function scoredAt(cfg: ModelConfig, targets: Int32Array, shape: readonly number[]): number[] {
  const [B, T] = shape as [number, number];
  if (targets.length !== B * T) {
    throw new RangeError(`targets: length ${targets.length}, expected batch · pos ${B} · ${T}`);
  }
  const bad = targets.findIndex((t) => t !== IGNORE && (t < 0 || t >= cfg.d_vocab_out));
  if (bad >= 0) {
    throw new RangeError(
      `targets[${bad}] = ${targets[bad]} is outside [0, d_vocab_out ${cfg.d_vocab_out})`,
    );
  }
  const at: number[] = [];
  targets.forEach((t, i) => t !== IGNORE && at.push(i));
  return at;
}
