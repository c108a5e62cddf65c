/**
 * Training on the GPU without waiting on it per step: a step (forward, backward, the Grokfast filter
 * when it is on, AdamW, whose step counter lives on the GPU) is encoded `eval_every` times in one
 * submit, followed by an evaluation (`gpu_eval.ts`, in row chunks) whose per-segment sums are
 * copied out at once and read while the next chunk of steps runs. Checkpoints read the weights and
 * the optimizer state back in one bulk read.
 *
 * @module
 */

import { type Dispatch, type Gpu, type GpuTensor, releaseDispatches } from "../gpu/mod.ts";
import { adamw, gatherRows, grokfast, readAdamWState } from "../../kernels/mod.ts";
import { scoresLastOnly, type TaskData } from "../data/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { buildGpuModel } from "../model/gpu_model.ts";
import type { ParamLayout } from "../model/params.ts";
import { adamwSettings, grokfastSettings, type TrainConfig } from "./config.ts";
import { gpuTrainBatch, sampleBatches, scoredTargets } from "./batches.ts";
import { buildGpuEval } from "./gpu_eval.ts";
import type { TrainHooks, TrainState } from "./state.ts";
import { runGpuLoop } from "./gpu_loop.ts";

/**
 * Trains `model` on `task` from `start` to `train.steps`, evaluating every `eval_every` steps (and
 * at step 0 of a fresh run) and checkpointing every `checkpoint_every` steps and at the end.
 *
 * @example
 * ```ts ignore
 * await trainOnGpu(gpu, { model, layout, train, task }, initialState, {
 *   onMetrics: (step, m) => console.log(step, m["test/acc"]),
 *   onCheckpoint: (state) => save(state),
 *   shouldStop: () => false,
 * });
 * ```
 */
export async function trainOnGpu(
  gpu: Gpu,
  setup: { model: ModelConfig; layout: ParamLayout; train: TrainConfig; task: TaskData },
  start: TrainState,
  hooks: TrainHooks,
): Promise<void> {
  const { model, layout, train, task } = setup;
  const owned: GpuTensor[] = [];
  const keep = (t: GpuTensor) => (owned.push(t), t);
  const params = keep(gpu.upload(start.params, [layout.size]));
  const grads = keep(gpu.zeros([layout.size]));
  const m = keep(gpu.upload(start.m, [layout.size]));
  const v = keep(gpu.upload(start.v, [layout.size]));
  const state = keep(gpu.upload(start.optimizer));
  const filter = grokfastSettings(train);
  const ema = filter && keep(gpu.upload(start.ema ?? new Float32Array(layout.size), [layout.size]));

  // A one-answer task's logits are computed at the last position alone, and its targets are that
  // column; a sequence task's at every position.
  const T = task.n_ctx;
  const scored = scoresLastOnly(task.targets, T) ? "last" : "all";

  // Full batch: the training rows are written once. Minibatches: every example is on the GPU and
  // each step gathers its rows from a table of eval_every steps, refilled between submits.
  const full = train.batch_size > 0 ? undefined : gpuTrainBatch(task);
  const B = full?.size ?? train.batch_size;
  const fit = await buildGpuModel(gpu, model, layout, {
    batch: B,
    params,
    grads,
    scored,
    lossOnly: true,
  });
  let pick: Dispatch[] = [];
  let table: { rows: GpuTensor; weights: GpuTensor } | undefined;
  if (full === undefined) {
    const N = task.tokens.length / T;
    const targets = scoredTargets(task.targets, T, scored);
    const all = {
      tokens: keep(gpu.upload(task.tokens, [N, T])),
      targets: keep(gpu.upload(targets, targets.length === N ? [N] : [N, T])),
    };
    const E = train.eval_every;
    table = { rows: keep(gpu.zeros([E, B], "i32")), weights: keep(gpu.zeros([E, B])) };
    const batch = { tokens: fit.tokens, targets: fit.targets, weights: fit.rowWeights! };
    pick = await gatherRows(gpu, all, table, state, batch);
  } else {
    gpu.write(fit.tokens, full.tokens);
    gpu.write(fit.targets, scoredTargets(full.targets, T, scored));
    gpu.write(fit.rowWeights!, full.weights);
  }
  /** Fills the table for steps `from .. to - 1`: step s in slot s mod eval_every. */
  const fillTable = (from: number, to: number) => {
    if (table === undefined) return;
    const E = train.eval_every;
    const drawn = sampleBatches(task, { size: B, seed: model.seed, from, steps: to - from });
    const rows = new Int32Array(E * B);
    const weights = new Float32Array(E * B);
    for (let s = from; s < to; s++) {
      rows.set(drawn.rows.subarray((s - from) * B, (s - from + 1) * B), (s % E) * B);
      weights.set(drawn.weights.subarray((s - from) * B, (s - from + 1) * B), (s % E) * B);
    }
    gpu.write(table.rows, rows);
    gpu.write(table.weights, weights);
  };
  const optimizer = await adamw(gpu, { params, grads, m, v, state }, adamwSettings(train));
  // Grokfast (when on) filters the gradients in place between the backward pass and AdamW.
  const slow = ema && filter ? await grokfast(gpu, { grads, ema, state }, filter) : [];
  const step = [...pick, ...fit.forward, ...fit.backward, ...slow, ...optimizer];

  const scoring = { model, layout, params, scored, batchSize: train.batch_size } as const;
  const evaluation = await buildGpuEval(gpu, scoring, [task]);
  /** Submits an evaluation and the copy of its sums; the returned function waits and records. */
  const evaluateAt = (at: number) => {
    const wait = evaluation.submit([state]);
    return async () => {
      const { metrics: [metrics], also: [st] } = await wait();
      const lr = at === 0 ? 0 : readAdamWState(st!).lr;
      await hooks.onMetrics(at, { lr, ...metrics });
    };
  };
  const checkpoint = async (at: number, final: boolean) => {
    const [p, mm, vv, st, e] = await gpu.read([params, m, v, state, ...(ema ? [ema] : [])]);
    await hooks.onCheckpoint({
      step: at,
      params: p!.data as Float32Array,
      m: mm!.data as Float32Array,
      v: vv!.data as Float32Array,
      // The state's words, bit for bit (read back as f32 from one shared staging buffer).
      optimizer: new Int32Array(st!.data.buffer, st!.data.byteOffset, st!.size).slice(),
      ...(e ? { ema: e.data as Float32Array } : {}),
    }, final);
  };

  try {
    const loop = { step, before: fillTable, evaluate: evaluateAt, checkpoint };
    await runGpuLoop(gpu, train, start.step, loop, () => hooks.shouldStop());
  } finally {
    releaseDispatches(optimizer);
    fit.release();
    evaluation.release();
    owned.forEach((t) => t.release());
  }
}
