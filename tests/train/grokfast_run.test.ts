// Grokfast in training, on each path: the CPU trainer (f32 gradients from the workers, the
// references' filter and update) and the GPU trainer (grokfast.wgsl before adamw.wgsl) held to a
// float64 loop of the reference model's gradients, the Grokfast reference and the AdamW reference
// for a few steps; and a run with Grokfast on, stopped and resumed, bitwise the uninterrupted one
// (the EMA is saved with AdamW's moments in checkpoints/optimizer.safetensors).
import * as assert from "node:assert/strict";
import { buildTask } from "../../engine/data/mod.ts";
import type { Device } from "../../engine/gpu/mod.ts";
import { cpuLossAndGrads } from "../../engine/model/cpu_model.ts";
import { initParams, paramLayout, unflatten } from "../../engine/model/params.ts";
import { adamwStep } from "../../engine/reference/adamw.ts";
import { grokfastStep } from "../../engine/reference/grokfast.ts";
import { openRunFolder, readCheckpointParams, readSafetensors } from "../../engine/runs/mod.ts";
import type { RunConfig } from "../../engine/runs/mod.ts";
import { Tensor, zeros } from "../../engine/tensor/mod.ts";
import { trainBatch } from "../../engine/train/batches.ts";
import { adamwSettings, grokfastSettings } from "../../engine/train/config.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { resumeRun, startRun } from "../../engine/train/run.ts";
import { GPU } from "../gpu/gpu_helpers.ts";
import { withTempDir } from "../helpers.ts";

function runTest(name: string, device: Device, fn: (parent: string) => Promise<void>): void {
  const def = { name, sanitizeOps: false, sanitizeResources: false, fn: () => withTempDir(fn) };
  if (device === "gpu") GPU.test(def);
  else Deno.test(def);
}

/** p = 7 addition, a model of width 8, Grokfast on. Only MLP biases train: b_K's exact gradient
 * is 0, and Adam would turn its f32 rounding noise into full steps. */
function tiny(steps: number, lambda = 2): RunConfig {
  return resolveConfig("smoke", {
    task: { p: 7, frac_train: 0.5 },
    model: { d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16, trainable_biases: "mlp" },
    train: {
      steps,
      eval_every: 5,
      checkpoint_every: 10,
      lr: 1e-2,
      warmup_steps: 2,
      grokfast_alpha: 0.9,
      grokfast_lambda: lambda,
    },
  }, "test");
}

/** The float64 loop: the reference model's full-batch gradients, Grokfast, AdamW, `steps` times. */
function referenceRun(cfg: RunConfig, steps: number): Float64Array {
  const layout = paramLayout(cfg.model);
  const P = layout.size;
  const b = trainBatch(buildTask(cfg.task));
  let params = new Tensor(Float64Array.from(initParams(cfg.model, layout)), [P]);
  let [m, v, ema] = [zeros([P]), zeros([P]), zeros([P])];
  const filter = grokfastSettings(cfg.train);
  for (let t = 1; t <= steps; t++) {
    const weights = unflatten(layout, params.data);
    const rows = Float64Array.from(b.weights);
    const { grads } = cpuLossAndGrads(cfg.model, weights, b.tokens, b.targets, rows, b.size);
    let flat = new Tensor(new Float64Array(P), [P]);
    for (const s of layout.specs) flat.data.set(grads.get(s.name)!.data, s.offset);
    if (filter) ({ grads: flat, ema } = grokfastStep(flat, ema, t, filter));
    ({ params, m, v } = adamwStep(params, flat, m, v, t, adamwSettings(cfg.train)));
  }
  return params.data as Float64Array;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

// 8 steps of lr 1e-2 (the first two warming up): the f32 paths' weights within 2e-5 of the float64
// loop's (Adam's normalised step carries the gradients' f32 error, 1e-5 relative at worst, into
// each update of size <= lr; measured 4e-7 on the CPU path, 7e-7 on lavapipe). Grokfast's own effect on the
// weights is near 1e-2, so a path that skipped or misapplied it is far outside.
const STEPS = 8;
const TOL = 2e-5;

for (const device of ["cpu", "gpu"] as const) {
  runTest(
    `grokfast (${device}): ${STEPS} steps held to the float64 reference`,
    device,
    async (parent) => {
      const cfg = tiny(STEPS);
      const run = await startRun(cfg, { parent, name: "g", force: false }, { device });
      const layout = paramLayout(cfg.model);
      const { params } = await readCheckpointParams(run.finalPath(), layout);
      const want = referenceRun(cfg, STEPS);
      const diff = maxDiff(params, want);
      const plain = maxDiff(want, referenceRun(tiny(STEPS, 0), STEPS));
      console.log(
        `  max |diff| ${diff.toExponential(2)} (tolerance ${TOL}); without Grokfast ${
          plain.toExponential(2)
        }`,
      );
      assert.ok(diff <= TOL, `max |diff| ${diff} > ${TOL}`);
      assert.ok(plain > 100 * TOL, `Grokfast moves the weights (${plain})`);
    },
  );

  runTest(
    `grokfast (${device}): stopped at step 10 and resumed, bitwise uninterrupted`,
    device,
    async (parent) => {
      const cfg = tiny(20);
      const whole = await startRun(cfg, { parent, name: "whole", force: false }, { device });
      let at = 0;
      const cut = await startRun(cfg, { parent, name: "cut", force: false }, {
        device,
        onMetrics: (step) => (at = step),
        shouldStop: () => at >= 10,
      });
      const opt = await readSafetensors(`${cut.path}/checkpoints/optimizer.safetensors`);
      assert.equal(opt.metadata.step, "10");
      const ema = opt.tensors.get("grokfast_ema")!;
      assert.deepEqual(ema.shape, [paramLayout(cfg.model).size]);
      assert.ok(ema.data.some((x) => x !== 0), "the EMA is saved");
      await resumeRun(cut.path, { device });
      const [a, b] = await Promise.all([whole, cut].map((f) => readSafetensors(f.finalPath())));
      for (const [name, t] of a!.tensors) {
        assert.deepEqual(b!.tensors.get(name)!.data, t.data, name);
      }
      const metrics = async (path: string) =>
        (await (await openRunFolder(path)).readMetrics()).map(({ time_s: _, ...m }) => m);
      assert.deepEqual(await metrics(cut.path), await metrics(whole.path));
    },
  );
}

runTest("grokfast: a run with it off saves no EMA", "cpu", async (parent) => {
  const run = await startRun(tiny(2, 0), { parent, name: "off", force: false }, { device: "cpu" });
  const opt = await readSafetensors(`${run.path}/checkpoints/optimizer.safetensors`);
  assert.deepEqual([...opt.tensors.keys()].sort(), ["m", "state", "v"]);
});
