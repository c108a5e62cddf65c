/**
 * `run_with_cache` and `run_with_hooks` on the float64 CPU model: the reference the GPU runner is
 * held to. Every hook's activation passes through one site in `cpuForward`; the edits aimed at it
 * apply there, before anything downstream reads it, and only the names asked for are kept.
 *
 * @module
 */

import { cpuForward, type HookSite } from "../model/cpu_forward.ts";
import { cpuActivationGrads } from "../model/cpu_model.ts";
import type { ModelConfig } from "../model/config.ts";
import { slice, Tensor } from "../tensor/mod.ts";
import { applyEdits, planEdits } from "./edit_plan.ts";
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
  Intervention,
  RunOptions,
} from "./types.ts";

/**
 * A hooked runner over the float64 CPU model with `weights` (f32 or f64, the layout's names).
 * Takes any batch (`maxBatch` is Infinity) and any number of positions up to `n_ctx`. Each head's
 * `attn.hook_result` is computed only in calls that ask for it or edit it: it is H times the size
 * of `hook_attn_out`, which is then their sum plus `b_O`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuRunner } from "./cpu_runner.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const runner = cpuRunner(cfg, unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg))));
 * const tokens = new Int32Array([3, 5, 113, 7, 1, 113]);
 * const { logits, cache } = await runner.runWithHooks(
 *   tokens,
 *   2,
 *   [{ kind: "zero", name: "blocks.0.attn.hook_z", head: 1 }],
 *   { names: ["blocks.0.attn.hook_pattern"] },
 * );
 * logits.shape; // [2, 113]: the last position
 * cache.get("blocks.0.attn.hook_pattern")?.shape; // [2, 2, 3, 3]
 * ```
 */
export function cpuRunner(cfg: ModelConfig, weights: Map<string, Tensor>): HookedRunner {
  return {
    device: "cpu",
    maxBatch: Infinity,
    runWithCache: (tokens, batch, options) => run(cfg, weights, { tokens, batch, options }),
    runWithHooks: (tokens, batch, interventions, options) =>
      run(cfg, weights, { tokens, batch, interventions, options }),
    runWithGrads: (tokens, batch, dlogits, options) =>
      withGrads(cfg, weights, { tokens, batch, dlogits, options }),
    release() {},
  };
}

/** One hooked forward pass (async, so that a bad call is a rejected promise). */
// deno-lint-ignore require-await
async function run(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  call: {
    tokens: Int32Array;
    batch: number;
    interventions?: readonly Intervention[];
    options?: RunOptions | undefined;
  },
): Promise<HookedResult> {
  const { tokens, batch } = call;
  const points = hookPoints(cfg, batch, positionsOf(cfg, tokens, batch));
  const asked = new Set((call.options?.names ?? []).map((n) => hookPoint(points, n).name));
  const plans = planEdits(call.interventions ?? [], (name) => hookPoint(points, name));
  const cache = new Map<string, Tensor>();
  const site: HookSite = {
    at(name, value) {
      const edits = plans.get(name);
      const out = edits === undefined ? value : applyEdits(value, hookPoint(points, name), edits);
      if (asked.has(name)) cache.set(name, out);
      return out;
    },
    wants: (name) => asked.has(name) || plans.has(name),
  };
  const { logits } = cpuForward(cfg, weights, tokens, batch, { hooks: site });
  return { logits: slice(logits, [null, -1]), cache };
}

/**
 * `runWithGrads` on the float64 model (`cpuActivationGrads`): the last position's `dlogits`
 * `[batch, U]` placed in a `[batch, T, U]` of zeros. Every hook the pass records can be cached
 * (`hook_result`, which it skips, cannot).
 */
// deno-lint-ignore require-await
async function withGrads(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  call: { tokens: Int32Array; batch: number; dlogits: Tensor; options: GradOptions },
): Promise<GradResult> {
  const { tokens, batch, dlogits, options } = call;
  const T = positionsOf(cfg, tokens, batch);
  const points = hookPoints(cfg, batch, T);
  const U = cfg.d_vocab_out;
  checkLastDlogits(dlogits, batch, U);
  const full = new Float64Array(batch * T * U); // [batch, T, U]: 0 but at the last position
  for (let b = 0; b < batch; b++) {
    full.set(dlogits.data.subarray(b * U, (b + 1) * U), (b * T + T - 1) * U);
  }
  const names = (options.names ?? []).map((n) => hookPoint(points, n).name);
  const wanted = options.grads.map((n) => gradHookPoint(points, n).name);
  const run = cpuActivationGrads(cfg, weights, tokens, new Tensor(full, [batch, T, U]));
  const pick = (from: Map<string, Tensor>, name: string) => {
    const t = from.get(name);
    if (t === undefined) throw new Error(`${name} is not kept by runWithGrads; use runWithCache`);
    return [name, t] as const;
  };
  return {
    logits: slice(run.logits, [null, -1]),
    cache: new Map(names.map((n) => pick(run.hooks, n))),
    grads: new Map(wanted.map((n) => pick(run.grads, n))),
  };
}
