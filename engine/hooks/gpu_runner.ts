/**
 * `run_with_cache` and `run_with_hooks` on the GPU model (`buildGpuModel`, forward only): the
 * edits of a call are spliced into the model's pre-bound forward dispatches right after each
 * hook's buffer is final (`GpuModel.hookEnds`), and the whole call is one `gpu.run` and one bulk
 * `gpu.read` of the logits and the names asked.
 *
 * Batches: the model's buffers are built for a fixed batch, so a call of `batch` rows runs on a
 * model built for the next power of two (at most `maxBatch`), its extra rows padded with token 0
 * and never read; models are built on first use and kept until `release`. Shapes are constants of
 * the kernels, so each size compiles its pipelines once.
 *
 * Attention: a call that caches `hook_pattern` runs on a model that keeps it (`[B, H, T, T]` per
 * layer, the materialising kernel); every other call on the tiled kernel, which stores nothing of
 * T × T. Both are held to the CPU model; their logits agree to a few ulps, not bit for bit.
 *
 * Three kinds of hook have no buffer in the model, yet the runner caches them (`HookPoint.gpu`),
 * though it cannot edit them (`HookPoint.gpuEdit`): `hook_embed` and `hook_pos_embed` (the
 * embedding kernel writes only their sum, or `W_E`'s rows alone in a shortformer model) are rows
 * of `W_E` and `W_pos`, taken on the CPU; each
 * head's `blocks.L.attn.hook_result` `[B, T, H, D]` is one batched product `z[:, :, h]·W_O[h]`
 * spliced right after `hook_z` is final (after its edits), only in calls that ask for it, as it is
 * H times the size of `hook_attn_out`.
 *
 * `runWithGrads` runs the training backward on a model built to train (`gpu_grads.ts`), one
 * per batch size as well, with a gradient buffer for the weights' (computed, not read); it takes
 * rows shorter than `n_ctx` (padded: attention is causal).
 *
 * What the GPU cannot do, it refuses in one line that says to use `cpuRunner`: `hook_attn_scores`
 * (kept in registers), edits of the hooks `gpuEditRefusal` names (with what to edit instead), and
 * rows shorter than `n_ctx`.
 *
 * @module
 */

import { type Dispatch, type Gpu, type GpuTensor, releaseDispatches } from "../gpu/mod.ts";
import { embeddingHooks } from "../model/cpu_forward.ts";
import { buildGpuModel, type GpuModel } from "../model/gpu_model.ts";
import type { ModelConfig } from "../model/config.ts";
import { flatten, paramLayout } from "../model/params.ts";
import { Tensor } from "../tensor/mod.ts";
import { type EditPlan, editView, planEdits } from "./edit_plan.ts";
import { copyRows, editDispatches, headResults, SpliceBuffers } from "./gpu_edits.ts";
import { gpuGrads } from "./gpu_grads.ts";
import { gpuEditRefusal, hookPoint, hookPoints, positionsOf } from "./hook_points.ts";
import type { HookedResult, HookedRunner, HookPoint, Intervention, RunOptions } from "./types.ts";

/** Options of `gpuRunner`. */
export interface GpuRunnerOptions {
  /**
   * The largest batch one call takes: 8192 by default, about 300 MB of activations for the
   * grokking model (a patching sweep stacks its variants up to this many rows per call).
   */
  maxBatch?: number;
}

/** The hook that only a model built with `pattern: true` has a buffer for. */
const PATTERN = /\.attn\.hook_pattern$/;

/** The hooks the GPU model has no buffer for that are rows of the weights (`embeddingHooks`). */
const FROM_WEIGHTS = ["hook_embed", "hook_pos_embed"] as const;

/**
 * A hooked runner over the GPU model with `weights` (the layout's names), uploaded once.
 *
 * @example
 * ```ts ignore
 * const runner = await gpuRunner(gpu, cfg, weights, { maxBatch: 4096 });
 * const { logits, cache } = await runner.runWithHooks(tokens, 8, [
 *   { kind: "mean", name: "blocks.0.attn.hook_z", head: 3 },
 * ], { names: ["blocks.0.hook_resid_post"] });
 * runner.release();
 * ```
 */
export async function gpuRunner(
  gpu: Gpu,
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  options: GpuRunnerOptions = {},
): Promise<HookedRunner> {
  const maxBatch = options.maxBatch ?? 8192;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(`gpuRunner: maxBatch must be a positive integer, got ${maxBatch}`);
  }
  const layout = paramLayout(cfg);
  const params = gpu.upload(flatten(layout, weights), [layout.size]);
  const W_O = Array.from({ length: cfg.n_layers }, (_, l) => {
    const spec = layout.byName.get(`blocks.${l}.attn.W_O`)!;
    return params.view(spec.offset, spec.shape); // [H, E, D]
  });
  await gpu.sync(); // a GPU error in the upload (out of memory) shows here, not in the first call
  const models = new Map<string, Promise<GpuModel>>();
  const modelFor = (batch: number, pattern: boolean) => {
    const size = Math.min(2 ** Math.ceil(Math.log2(batch)), maxBatch);
    const key = `${size} ${pattern}`;
    let model = models.get(key);
    if (model === undefined) {
      model = buildGpuModel(gpu, cfg, layout, { batch: size, params, pattern });
      models.set(key, model);
    }
    return model;
  };
  const run = async (
    tokens: Int32Array,
    batch: number,
    interventions: readonly Intervention[],
    opts: RunOptions = {},
  ): Promise<HookedResult> => {
    const names = opts.names ?? [];
    const call = checkedCall(cfg, { tokens, batch, interventions, names });
    if (batch > maxBatch) {
      throw new RangeError(`gpu runner: batch ${batch} exceeds maxBatch ${maxBatch}`);
    }
    const pattern = [...call.asked].some((n) => PATTERN.test(n));
    const result = await runOn(gpu, call, { model: await modelFor(batch, pattern), W_O });
    const asked = FROM_WEIGHTS.filter((n) => names.includes(n));
    if (asked.length > 0) {
      const ids = new Tensor(tokens, [batch, tokens.length / batch]);
      const rows = embeddingHooks(weights.get("embed.W_E")!, weights.get("pos_embed.W_pos")!, ids);
      for (const name of asked) result.cache.set(name, rows[name].astype("f32"));
    }
    return result;
  };
  let weightGrads: GpuTensor | undefined; // [P]: what the backward writes besides, never read
  const gradModels = new Map<number, Promise<GpuModel>>();
  const gradModelFor = (batch: number) => {
    const size = Math.min(2 ** Math.ceil(Math.log2(batch)), maxBatch);
    let model = gradModels.get(size);
    if (model === undefined) {
      weightGrads ??= gpu.empty([layout.size]);
      const grads = weightGrads;
      model = buildGpuModel(gpu, cfg, layout, { batch: size, params, grads, scored: "all" });
      gradModels.set(size, model);
    }
    return model;
  };
  return {
    device: "gpu",
    maxBatch,
    runWithCache: (tokens, batch, opts) => run(tokens, batch, [], opts),
    runWithHooks: run,
    async runWithGrads(tokens, batch, dlogits, options) {
      if (batch > maxBatch) {
        throw new RangeError(`gpu runner: batch ${batch} exceeds maxBatch ${maxBatch}`);
      }
      const model = await gradModelFor(batch);
      return await gpuGrads(gpu, cfg, model, { tokens, batch, dlogits, options });
    },
    release() {
      for (const m of gradModels.values()) m.then((model) => model.release(), () => {});
      gradModels.clear();
      weightGrads?.release();
      // A model whose build failed has nothing to free; its error reached the call that built it.
      for (const m of models.values()) m.then((model) => model.release(), () => {});
      models.clear();
      params.release();
    },
  };
}

/** A call checked against the hook points and what the GPU can do. */
interface Call {
  tokens: Int32Array;
  batch: number;
  /** The hook points the GPU runner caches, in forward order. */
  points: HookPoint[];
  asked: Set<string>;
  plans: Map<string, EditPlan[]>;
}

/** Checks names, interventions and positions; throws one line naming what the GPU cannot do. */
function checkedCall(
  cfg: ModelConfig,
  call: {
    tokens: Int32Array;
    batch: number;
    interventions: readonly Intervention[];
    names: readonly string[];
  },
): Call {
  const { tokens, batch } = call;
  const T = positionsOf(cfg, tokens, batch);
  if (T !== cfg.n_ctx) {
    throw new RangeError(
      `gpu runner: rows of ${T} positions, but the GPU model runs n_ctx ${cfg.n_ctx}; use cpuRunner`,
    );
  }
  const points = hookPoints(cfg, batch, T);
  const onGpu = (name: string) => {
    const point = hookPoint(points, name);
    if (!point.gpu) throw new Error(`${name} is not on the GPU model; use cpuRunner for it`);
    return point;
  };
  const asked = new Set(call.names.map((n) => onGpu(n).name));
  const plans = planEdits(call.interventions, (name) => {
    const point = onGpu(name);
    if (!point.gpuEdit) throw new Error(`cannot edit ${name} on the GPU: ${gpuEditRefusal(name)}`);
    return point;
  });
  return { tokens, batch, points: points.filter((p) => p.gpu), asked, plans };
}

/**
 * One hooked forward pass of `call` on `model` (built for its batch), with each layer's `W_O`
 * `[H, E, D]` for the heads' results. The embeddings, which come from the weights, are left to the caller.
 */
async function runOn(
  gpu: Gpu,
  call: Call,
  on: { model: GpuModel; W_O: GpuTensor[] },
): Promise<HookedResult> {
  const { model } = on;
  const { batch, points, asked, plans } = call;
  const P = model.batch;
  const T = call.tokens.length / batch;
  const padded = new Int32Array(P * T);
  padded.set(call.tokens);
  gpu.write(model.tokens, padded);

  const held = new SpliceBuffers(gpu);
  const splices: Dispatch[][] = Array.from({ length: model.forward.length + 1 }, () => []);
  const read = new Map<string, GpuTensor>(); // name → what to read back for the cache
  for (const [i, point] of points.entries()) {
    const result = /^blocks\.(\d+)\.attn\.hook_result$/.exec(point.name);
    if (result !== null && asked.has(point.name)) {
      // After hook_z's edits (spliced at the same place, earlier in this loop), so they show here.
      const z = `blocks.${result[1]}.attn.hook_z`;
      const heads = held.empty([batch, ...point.shape.slice(1)]); // [batch, T, H, D]
      const from = { z: model.hooks.get(z)!, W_O: on.W_O[Number(result[1])]! };
      splices[model.hookEnds.get(z)!]!.push(...await headResults(gpu, from, heads));
      read.set(point.name, heads);
    }
    const buffer = model.hooks.get(point.name);
    if (buffer === undefined) continue; // hook_result above; the embeddings, from the weights
    const { view } = editView(point);
    const target = buffer.view(0, [P, ...view.slice(1)]); // [P, X, Y, C]
    const at = splices[model.hookEnds.get(point.name)!]!;
    const edits = plans.get(point.name);
    if (edits !== undefined) {
      at.push(...await editDispatches(gpu, held, { target, batch, plans: edits }));
    }
    if (!asked.has(point.name)) continue;
    // A later hook on the same buffer (blocks.L.hook_resid_pre after blocks.L-1.hook_resid_post)
    // edits it in place: the cache keeps this hook's value in a copy made before that edit.
    const overwritten = points.slice(i + 1).some((later) =>
      plans.has(later.name) && model.hooks.get(later.name)!.buffer === buffer.buffer
    );
    if (overwritten) {
      const copy = held.empty([batch, ...view.slice(1)]);
      at.push(...await copyRows(gpu, target, copy));
      read.set(point.name, copy);
    } else read.set(point.name, buffer.view(0, [batch, ...point.shape.slice(1)]));
  }
  const end = model.hookEnds.get("logits")!;
  const dispatches = model.forward.slice(0, end).flatMap((d, k) => [...splices[k]!, d]);
  dispatches.push(...splices[end]!);
  try {
    gpu.run(dispatches);
    const U = model.logits.shape[1]!;
    const [logits, ...cached] = await gpu.read([
      model.logits.view(0, [batch, U]),
      ...read.values(),
    ]);
    const cache = new Map<string, Tensor>();
    [...read.keys()].forEach((name, i) => {
      cache.set(name, cached[i]!.reshape(hookPoint(points, name).shape));
    });
    return { logits: logits!, cache };
  } finally {
    releaseDispatches(splices.flat());
    held.release();
  }
}
