/**
 * `run_with_cache`, `run_with_hooks` and `get_cache_fwd_and_bwd` on the fast f32 CPU model
 * (`engine/model/cpu_fast`, the trainer's forward and backward): the weights stay one flat f32
 * array, and the pass forms and keeps only the hooks asked for or edited (TransformerLens issue
 * #746: caching everything runs out of memory on GPT-2). Edits are `edit_plan.ts`'s, as on the
 * float64 runner (`cpu_runner.ts`), which stays the reference this one is tested against.
 *
 * @module
 */

import { IGNORE } from "../data/task.ts";
import type { ModelConfig } from "../model/config.ts";
import { backwardPass } from "../model/cpu_fast/backward.ts";
import type { FastHookSite } from "../model/cpu_fast/hooks.ts";
import { checkInputs, type ForwardPass, forwardPass, viewOf } from "../model/cpu_fast/model.ts";
import { flatten, paramLayout } from "../model/params.ts";
import { Tensor } from "../tensor/mod.ts";
import { applyEdits, type EditPlan, planEdits } from "./edit_plan.ts";
import {
  checkLastDlogits,
  gradHookPoint,
  hookPoint,
  hookPoints,
  positionsOf,
} from "./hook_points.ts";
import type {
  GradOptions,
  GradResult,
  HookedResult,
  HookedRunner,
  HookPoint,
  Intervention,
  RunOptions,
} from "./types.ts";

/** The model a runner holds: its config and a forward pass through its flat weights. */
interface Model {
  cfg: ModelConfig;
  /**
   * The pass of `tokens [batch, T]` with each wanted hook through `site`; `forwardOnly` keeps
   * nothing for a backward and unembeds only the last positions.
   */
  forward(
    tokens: Int32Array,
    batch: number,
    options: { site: FastHookSite; forwardOnly: boolean },
  ): Promise<Forward>;
}

/** A forward pass with what its backward reads. */
type Forward = ForwardPass & {
  tokens: Int32Array;
  dims: { B: number; T: number; H: number; E: number };
  W: (name: string) => Float32Array;
};

/**
 * A hooked runner over the f32 CPU model with `weights`: named tensors (copied once into the flat
 * f32 layout of `params.ts`) or that flat array itself (held, not copied). Takes any batch and any
 * number of positions up to `n_ctx`. Caches and gradients come back as f32 tensors, as the GPU
 * runner's do; the logits are the last position's, `[batch, d_vocab_out]`. It edits every hook
 * the float64 runner does but `hook_pos_embed` of a shortformer model (whose positions reach each
 * layer's q and k from `W_pos` directly).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout } from "../model/params.ts";
 * import { f32Runner } from "./f32_runner.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const runner = f32Runner(cfg, initParams(cfg, paramLayout(cfg)));
 * const { logits, cache } = await runner.runWithHooks(
 *   new Int32Array([3, 5, 113, 7, 1, 113]),
 *   2,
 *   [{ kind: "zero", name: "blocks.0.attn.hook_z", head: 1 }],
 *   { names: ["blocks.0.attn.hook_pattern"] },
 * );
 * logits.shape; // [2, 113]: the last position
 * cache.get("blocks.0.attn.hook_pattern")?.dtype; // "f32"
 * ```
 */
export function f32Runner(
  cfg: ModelConfig,
  weights: Map<string, Tensor> | Float32Array,
): HookedRunner {
  const layout = paramLayout(cfg);
  const params = weights instanceof Float32Array ? weights : flatten(layout, weights);
  const W = (name: string) => viewOf(layout, params, name);
  const model: Model = {
    cfg,
    // deno-lint-ignore require-await
    async forward(tokens, batch, options) {
      const targets = new Int32Array(tokens.length).fill(IGNORE);
      const T = checkInputs(cfg, layout, params, { tokens, targets, batch });
      const dims = { B: batch, T, H: cfg.n_heads, E: cfg.d_head };
      return { ...forwardPass(cfg, W, tokens, dims, options), tokens, dims, W };
    },
  };
  return {
    device: "cpu",
    maxBatch: Infinity,
    runWithCache: (tokens, batch, options) => run(model, { tokens, batch, options }),
    runWithHooks: (tokens, batch, interventions, options) =>
      run(model, { tokens, batch, interventions, options }),
    runWithGrads: (tokens, batch, dlogits, options) =>
      withGrads(model, { tokens, batch, dlogits, options }),
    release() {},
  };
}

/** One hooked forward pass. */
async function run(
  model: Model,
  call: {
    tokens: Int32Array;
    batch: number;
    interventions?: readonly Intervention[];
    options?: RunOptions | undefined;
  },
): Promise<HookedResult> {
  const { cfg } = model;
  const { tokens, batch } = call;
  const points = hookPoints(cfg, batch, positionsOf(cfg, tokens, batch));
  const plans = planEdits(call.interventions ?? [], (name) => {
    if (name === "hook_pos_embed" && cfg.positional_embedding_type === "shortformer") {
      throw new RangeError(
        "f32 runner: a shortformer's positions reach q and k from W_pos, not hook_pos_embed; " +
          "edit blocks.L.attn.hook_q|k or use cpuRunner",
      );
    }
    return hookPoint(points, name);
  });
  const { site, cache } = cachingSite(points, call.options?.names ?? [], plans);
  const { logits } = await model.forward(tokens, batch, { site, forwardOnly: true });
  return { logits: new Tensor(logits, [batch, cfg.d_vocab_out]), cache };
}

/**
 * `runWithGrads`: the forward pass caching `options.names`, then the backward from the last
 * position's `dlogits` `[batch, U]` (zeros elsewhere), forming no weight gradient.
 */
async function withGrads(
  model: Model,
  call: { tokens: Int32Array; batch: number; dlogits: Tensor; options: GradOptions },
): Promise<GradResult> {
  const { cfg } = model;
  const { tokens, batch, dlogits, options } = call;
  const T = positionsOf(cfg, tokens, batch);
  const points = hookPoints(cfg, batch, T);
  const U = cfg.d_vocab_out;
  checkLastDlogits(dlogits, batch, U);
  const wanted = new Map(options.grads.map((n) => [n, gradHookPoint(points, n)]));
  const { site, cache } = cachingSite(points, options.names ?? [], new Map());
  const pass = await model.forward(tokens, batch, { site, forwardOnly: false });
  const full = new Float32Array(batch * T * U); // [batch, T, U]: 0 but at the last position
  for (let b = 0; b < batch; b++) {
    full.set(dlogits.data.subarray(b * U, (b + 1) * U), (b * T + T - 1) * U);
  }
  const grads = new Map<string, Tensor>();
  backwardPass(cfg, pass, {
    dlogits: full,
    onGrad(name, grad) {
      const point = wanted.get(name);
      if (point !== undefined) grads.set(name, new Tensor(grad.slice(), point.shape));
    },
  });
  return { logits: lastPosition(pass, U), cache, grads };
}

/**
 * The site that carries out `plans` and keeps a copy of each hook in `names` (after its edits):
 * the pass overwrites some of its activations in place (a sublayer's output becomes the residual).
 */
function cachingSite(
  points: readonly HookPoint[],
  names: readonly string[],
  plans: ReadonlyMap<string, EditPlan[]>,
): { site: FastHookSite; cache: Map<string, Tensor> } {
  const asked = new Set(names.map((n) => hookPoint(points, n).name));
  const cache = new Map<string, Tensor>();
  const site: FastHookSite = {
    wants: (name) => asked.has(name) || plans.has(name),
    at(name, value) {
      const point = hookPoint(points, name);
      const edits = plans.get(name);
      const out = edits === undefined
        ? value
        : Float32Array.from(applyEdits(new Tensor(value, point.shape), point, edits).data);
      if (asked.has(name)) cache.set(name, new Tensor(out.slice(), point.shape));
      return out;
    },
  };
  return { site, cache };
}

/** `[B, U]`: the logits at each row's last position. */
function lastPosition(pass: Forward, U: number): Tensor {
  const { B, T } = pass.dims;
  const out = new Float32Array(B * U);
  for (let b = 0; b < B; b++) {
    out.set(pass.logits.subarray((b * T + T - 1) * U, (b * T + T) * U), b * U);
  }
  return new Tensor(out, [B, U]);
}
