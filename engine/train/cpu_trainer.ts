/**
 * Training on the CPU: the f32 model of `engine/model/cpu_fast/` on a worker per core for the
 * gradients, the Grokfast (when on) and AdamW references for the update, and the float64 reference model for evaluation.
 * It is the path for machines with no WebGPU adapter at all, and it keeps the weights and moments
 * in f32 between steps, as the GPU does, so its checkpoints resume exactly (the batch is split
 * among the same workers each step, so a step gives the same bits every run on one machine).
 *
 * @module
 */

import { adamwStep } from "../reference/adamw.ts";
import { grokfastStep } from "../reference/grokfast.ts";
import { segmentSums } from "../reference/cross_entropy.ts";
import { readAdamWState } from "../../kernels/adamw.ts";
import { cpuEval } from "../model/cpu_model.ts";
import { CpuWorkers } from "../model/cpu_fast/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { type ParamLayout, unflatten } from "../model/params.ts";
import type { TaskData } from "../data/mod.ts";
import { Tensor } from "../tensor/mod.ts";
import { adamwSettings, grokfastSettings, type TrainConfig } from "./config.ts";
import { evalBatch, sampleBatches, segmentMetrics, tableBatch, trainBatch } from "./batches.ts";
import { eventLoopTurns, type TrainHooks, type TrainState } from "./state.ts";

/**
 * Trains on the CPU from `start` to `train.steps`, evaluating and checkpointing as `trainOnGpu`.
 *
 * @example
 * ```ts ignore
 * await trainOnCpu({ model, layout, train, task }, freshState(params), hooks);
 * ```
 */
export async function trainOnCpu(
  setup: {
    model: ModelConfig;
    layout: ParamLayout;
    train: TrainConfig;
    task: TaskData;
    /** Workers to use and leave open (a sweep's, shared by its members); else its own. */
    workers?: CpuWorkers | undefined;
  },
  start: TrainState,
  hooks: TrainHooks,
): Promise<void> {
  const { model, layout, train, task } = setup;
  const full = train.batch_size > 0 ? undefined : trainBatch(task);
  /** Step s's batch: the whole training set, or the minibatch the GPU path would draw. */
  const batchAt = (s: number) => {
    if (full !== undefined) return full;
    const size = train.batch_size;
    const table = sampleBatches(task, { size, seed: model.seed, from: s, steps: 1 });
    return tableBatch(task, table, 0, size);
  };
  const { batch: eb, segments } = evalBatch(task);
  const P = layout.size;
  let params = new Tensor(Float32Array.from(start.params), [P]);
  let m = new Tensor(Float32Array.from(start.m), [P]);
  let v = new Tensor(Float32Array.from(start.v), [P]);
  const resumed = readAdamWState(new Tensor(start.optimizer, [start.optimizer.length]));
  let t = resumed.t;
  let lr = resumed.lr;
  const settings = adamwSettings(train);
  const grokfast = grokfastSettings(train);
  let ema = grokfast && new Tensor(Float32Array.from(start.ema ?? new Float32Array(P)), [P]);

  // cpuEval's sums are per position: a segment of rows [start, end) is positions [start·T, end·T).
  const T = task.n_ctx;
  const bounds = [0, ...segments.map((s) => s.end * T)];
  const evaluate = async (at: number) => {
    const r = cpuEval(model, unflatten(layout, params.data), eb.tokens, eb.targets, eb.size);
    const sums = segmentSums(
      new Tensor(r.loss, [eb.size * T]),
      new Tensor(r.correct, [eb.size * T]),
      bounds,
    );
    await hooks.onMetrics(at, { lr: at === 0 ? 0 : lr, ...segmentMetrics(segments, sums.data) });
  };
  const checkpoint = async (at: number, final: boolean) => {
    const optimizer = new Int32Array(8);
    optimizer[0] = t;
    new Float32Array(optimizer.buffer, 4, 1)[0] = lr;
    await hooks.onCheckpoint({
      step: at,
      params: params.data as Float32Array,
      m: m.data as Float32Array,
      v: v.data as Float32Array,
      optimizer,
      ...(ema ? { ema: ema.data as Float32Array } : {}),
    }, final);
  };

  let at = start.step;
  if (at === 0) await evaluate(0);
  // A step can take a second at the paper's scale: Ctrl-C is seen before the next one.
  const turn = eventLoopTurns(50);
  const pool = setup.workers ?? new CpuWorkers();
  try {
    while (at < train.steps) {
      await turn();
      if (hooks.shouldStop()) break;
      const tb = batchAt(at);
      const { grads } = await pool.lossAndGrads(model, params.data as Float32Array, {
        tokens: tb.tokens,
        targets: tb.targets,
        rowWeights: Float64Array.from(tb.weights),
        batch: tb.size,
      });
      let flatGrads = new Tensor(grads, [P]);
      t += 1;
      if (grokfast && ema) {
        const filtered = grokfastStep(flatGrads, ema, t, grokfast);
        flatGrads = filtered.grads;
        ema = filtered.ema.astype("f32"); // in f32 between steps, as the moments
      }
      const next = adamwStep(params, flatGrads, m, v, t, settings);
      // Kept in f32 between steps, as on the GPU: a checkpoint holds the state exactly.
      params = next.params.astype("f32");
      m = next.m.astype("f32");
      v = next.v.astype("f32");
      lr = Math.fround(next.lr);
      at += 1;
      if (at % train.eval_every === 0 || at === train.steps) await evaluate(at);
      if (at % train.checkpoint_every === 0 && at < train.steps) await checkpoint(at, false);
    }
  } finally {
    if (pool !== setup.workers) pool.close();
  }
  // Stopped between evaluations (and after at least one step): the last metrics line is this one.
  if (at > start.step && at % train.eval_every !== 0 && at !== train.steps) await evaluate(at);
  if (at > start.step || at === 0) await checkpoint(at, true);
}
