// The GPU trainers' evaluation in row chunks (engine/train/gpu_eval.ts) against the float64 CPU
// model's (cpuEval, itself held to PyTorch): one chunk, chunks that cut the train and test
// segments with a padded last chunk, members evaluated together, and a task scored at every
// position; every metric to f32 rounding, and the chunked and one-chunk GPU evaluations to each
// other.
import * as assert from "node:assert/strict";
import { buildTask, type TaskData } from "../../engine/data/mod.ts";
import { cpuEval } from "../../engine/model/cpu_model.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { initParams, paramLayout, unflatten } from "../../engine/model/params.ts";
import { evalBatch, evalChunks, segmentMetrics } from "../../engine/train/batches.ts";
import { buildGpuEval } from "../../engine/train/gpu_eval.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import type { Gpu } from "../../engine/gpu/mod.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";

/** The float64 reference's metrics of `params` on `task`: cpuEval, summed per segment here. */
function reference(model: ModelConfig, params: Float32Array, task: TaskData) {
  const { batch, segments } = evalBatch(task);
  const weights = unflatten(paramLayout(model), params);
  const r = cpuEval(model, weights, batch.tokens, batch.targets, batch.size);
  const T = task.n_ctx;
  const sums = segments.flatMap((s) => {
    let [loss, correct] = [0, 0];
    for (let i = s.start * T; i < s.end * T; i++) (loss += r.loss[i]!, correct += r.correct[i]!);
    return [loss, correct];
  });
  return segmentMetrics(segments, sums);
}

/** Each member's GPU metrics, the members' weights one after another, in chunks of ~`rows`. */
async function onGpu(
  gpu: Gpu,
  model: ModelConfig,
  members: { params: Float32Array; task: TaskData }[],
  rows: number | undefined,
) {
  const layout = paramLayout(model);
  const flat = new Float32Array(members.length * layout.size);
  members.forEach((m, g) => flat.set(m.params, g * layout.size));
  const params = gpu.upload(flat, [flat.length]);
  const scored = members[0]!.task.task === "modular" ? "last" as const : "all" as const;
  const evaluation = await buildGpuEval(
    gpu,
    { model, layout, params, scored, batchSize: 0, ...(rows === undefined ? {} : { rows }) },
    members.map((m) => m.task),
  );
  try {
    return (await evaluation.submit([])()).metrics;
  } finally {
    evaluation.release();
    params.release();
  }
}

function expectMetrics(got: Record<string, number>, want: Record<string, number>, what: string) {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), what);
  for (const [k, w] of Object.entries(want)) {
    // f32 logits against float64: the mean loss to 1e-5 relative; an accuracy exactly, but for
    // a near tie (one example in a few hundred, 1 / count).
    const tol = k.includes("acc") ? 1e-2 : 1e-5 * Math.max(1, Math.abs(w));
    assert.ok(Math.abs(got[k]! - w) <= tol, `${what} ${k}: ${got[k]} vs ${w}`);
  }
}

gpuTest("gpu eval in chunks: one model, two members, against the float64 model", async (gpu) => {
  // (x + y) mod 17, 30% train: 289 examples, 86 train. Chunks of about the training batch are
  // 4 of 73 (3 padding rows); chunks of ~40 are 8 of 37 (7 padding rows), each segment cut.
  const configs = [598, 7].map((data_seed, g) =>
    resolveConfig("smoke", {
      task: { p: 17, frac_train: 0.3, data_seed },
      model: { d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, seed: g + 1 },
    }, "test")
  );
  const model = configs[0]!.model;
  const layout = paramLayout(model);
  const members = configs.map((c) => ({
    params: initParams(c.model, layout),
    task: buildTask(c.task),
  }));
  assert.deepEqual(evalChunks(members[0]!.task, 0), { rows: 73, count: 4 });
  const want = members.map((m) => reference(model, m.params, m.task));
  const whole = await onGpu(gpu, model, members.slice(0, 1), 289);
  const chunked = await onGpu(gpu, model, members.slice(0, 1), undefined);
  const fine = await onGpu(gpu, model, members.slice(0, 1), 40);
  const group = await onGpu(gpu, model, members, 40);
  expectMetrics(whole[0]!, want[0]!, "one chunk");
  expectMetrics(chunked[0]!, want[0]!, "4 chunks");
  expectMetrics(fine[0]!, want[0]!, "8 chunks");
  expectMetrics(group[0]!, want[0]!, "member 0 of 2");
  expectMetrics(group[1]!, want[1]!, "member 1 of 2");
  // The same f32 losses summed in other pieces: the GPU's evaluations agree to a few ulps.
  for (const [k, w] of Object.entries(whole[0]!)) {
    for (const got of [chunked[0]!, fine[0]!, group[0]!]) {
      assert.ok(
        Math.abs(got[k]! - w) <= 1e-6 * Math.max(1, Math.abs(w)),
        `${k}: ${got[k]} vs ${w}`,
      );
    }
  }
  assert.notDeepEqual(group[0], group[1], "each member its own weights and split");
});

gpuTest("gpu eval in chunks: a task scored at every position", async (gpu) => {
  // Repeated random tokens: 60 sequences of 2 · 6 + 1 positions, the loss at every position of the
  // repeat; chunks of ~7 are 9 of 7 (3 padding rows).
  const cfg = resolveConfig("induction", {
    task: { n_tokens: 8, seq_len: 6, n_seqs: 60, frac_train: 0.8 },
    model: { d_model: 16, n_heads: 2, d_head: 8 },
  }, "test");
  const layout = paramLayout(cfg.model);
  const member = { params: initParams(cfg.model, layout), task: buildTask(cfg.task) };
  const want = reference(cfg.model, member.params, member.task);
  const [chunked] = await onGpu(gpu, cfg.model, [member], 7);
  expectMetrics(chunked!, want, "9 chunks");
});
