// The memory a run needs, from its config: the estimate against a count by hand for a tiny
// config, and absurd configs refused in one line before anything is allocated, on the command
// line's path (startRun) and the server's (launchFlags).
import * as assert from "node:assert/strict";
import { buildTask } from "../../engine/data/mod.ts";
import type { Gpu } from "../../engine/gpu/mod.ts";
import { launchFlags } from "../../engine/server/launch_args.ts";
import { checkRunFits, estimateRunBytes } from "../../engine/train/memory.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { startRun } from "../../engine/train/run.ts";
import { listDir, withTempDir } from "../helpers.ts";

Deno.test("memory: the estimate of a tiny run, counted by hand", () => {
  // (x + y) mod 5: 25 examples, 10 train (⌊0.4 · 25⌋), all 25 evaluated; T 3, D 4, H 1, E 4,
  // M 8, d_vocab 6, U 5, one layer, no LayerNorm, full batch (B = 10).
  const cfg = resolveConfig("smoke", {
    task: { p: 5, frac_train: 0.4 },
    model: { d_model: 4, n_heads: 1, d_head: 4, d_mlp: 8 },
  }, "test");
  const task = buildTask(cfg.task);
  // P: 16 weights (W_E, W_pos, W_Q, W_K, W_V, W_O, b_Q, b_K, b_V, b_O, W_in, b_in, W_out, b_out,
  // W_U, b_U), none over 64 elements, each padded to 64: 16 · 64.
  const P = 1024;
  // A row's activations per layer: residuals 5·3·4 = 60, q k v z 4·3·1·4 = 48, MLP pre and post
  // 2·3·8 = 48: 156; embedding 3·4 = 12; logits 3·5 on the CPU (183 floats). The GPU runs the MLP
  // at the last position alone (the only one scored): resid_pre, attn_out, resid_mid 3·3·4 = 36,
  // the last position's copy of resid_mid, the MLP's output and resid_post 3·4 = 12, q k v z 48,
  // the logsumexp 1·3, MLP pre and post 2·8 = 16 (115); embedding 12; logits 5 (132). The CPU's
  // attention: H·T·T = 9 per row, kept twice per layer in training with 6 more in passing, 5 in
  // passing in an evaluation.
  // task, evaluation and training rows: 3 tokens and 3 targets (IGNORE but the last), i32
  const examples = (25 + 25 + 10) * 3 * 2 * 4;
  const cpu = estimateRunBytes(cfg, task, "cpu");
  assert.deepEqual(cpu, {
    params: P,
    // f32 weights, m, v; six f64 vectors in a step; the evaluation (25 · (183 + 5 · 9) floats,
    // more than the training batch's 10 · (2 · 183 + 8 · 9)) in f64.
    host: 3 * P * 4 + 6 * P * 8 + 25 * (183 + 5 * 9) * 8 + examples,
    gpu: 0,
    largestBuffer: 0,
    mostly: "parameters",
  });
  const gpu = estimateRunBytes(cfg, task, "gpu");
  // Training rows: 2 · 132 activations and gradients + 3 · 3 · 4 q, k, v paths into the residual.
  // The evaluation runs in chunks of about the training batch: 3 chunks of 9 rows (25 examples
  // and 2 padding rows), 132 floats a row, and the chunks' examples on the GPU: 27 rows of 3
  // tokens and 1 target (the last position's).
  const activations = (10 * (2 * 132 + 36) + 9 * 132) * 4;
  assert.deepEqual(gpu, {
    params: P,
    host: P * 20 + examples, // a checkpoint's read-back: weights, m, v in f32, weights in f64
    gpu: 4 * P * 4 + activations + 27 * 4 * 4, // weights, gradients, m, v
    largestBuffer: P * 4, // the weights: every activation buffer is smaller
    mostly: "activations",
  });
});

Deno.test("memory: at long n_ctx the GPU's activations grow as T, the CPU's as T²", () => {
  // The smoke run with its context stretched: the GPU's tiled attention keeps [B, H, T] per
  // layer, the CPU's float64 reference [B, H, T, T]. Doubling T from 512 to 1,024 doubles the
  // GPU's activations (less the logits, one position) and nearly quadruples the CPU's.
  const smoke = resolveConfig("smoke", {}, "test");
  const task = buildTask(smoke.task);
  const at = (n_ctx: number, device: "cpu" | "gpu") => {
    const cfg = { ...smoke, model: { ...smoke.model, n_ctx } };
    const { params, host, gpu } = estimateRunBytes(cfg, task, device);
    const weights = device === "cpu" ? 3 * params * 4 + 6 * params * 8 : 4 * params * 4;
    return (device === "cpu" ? host : gpu) - weights;
  };
  const gpu = at(1024, "gpu") / at(512, "gpu");
  const cpu = at(1024, "cpu") / at(512, "cpu");
  assert.ok(gpu > 1.9 && gpu <= 2, `GPU: ×${gpu}`);
  assert.ok(cpu > 3.5 && cpu <= 4, `CPU: ×${cpu}`);
});

Deno.test("memory: an absurd run is refused in one line before anything is allocated", async () => {
  const huge = resolveConfig("smoke", { model: { d_mlp: 1e12 } }, "test");
  const task = buildTask(huge.task);
  for (const device of ["cpu", "gpu", "auto"] as const) {
    assert.throws(
      () => checkRunFits(huge, task, { device }),
      /^RangeError: the run needs about [\d.e+]+ GB of (GPU )?memory \(.*d_mlp 1000000000000.*\), more than the [\d.]+ GB free here$/,
    );
  }
  // Allocating first would fail too, but with "Array buffer allocation failed": this message
  // says the estimate refused it, and no folder was made.
  await withTempDir(async (parent) => {
    await assert.rejects(
      startRun(huge, { parent, name: "huge", force: false }, { device: "cpu" }),
      /^RangeError: the run needs about/,
    );
    assert.deepEqual(await listDir(parent), []);
  });
  assert.throws(
    () => launchFlags({ preset: "smoke", overrides: { train: { batch_size: 1e9 } } }, "test"),
    /^RangeError: the run needs about .* batch_size 1000000000/,
  );
  // A run that fits passes: the smoke preset, but not on an adapter whose buffers are capped at
  // 0.5 MB: its largest buffer, the backward's q, k, v paths into the residual [3, 264 · 3, 64]
  // f32, is more than the training batch's MLP activation [264, 256] (the last position alone)
  // and the evaluation's [177, 256] (3 chunks of the 529 examples).
  const smoke = resolveConfig("smoke", {}, "test");
  const smokeTask = buildTask(smoke.task);
  checkRunFits(smoke, smokeTask, { device: "cpu" });
  assert.equal(estimateRunBytes(smoke, smokeTask, "gpu").largestBuffer, 3 * 792 * 64 * 4);
  const capped = { device: { limits: { maxBufferSize: 5e5, maxStorageBufferBindingSize: 2e6 } } };
  assert.throws(
    () => checkRunFits(smoke, smokeTask, { device: "gpu", gpu: capped as unknown as Gpu }),
    /^RangeError: the run needs a GPU buffer of about 0.00061 GB .*, more than the 0.0005 GB this adapter allows; try --device cpu/,
  );
});
