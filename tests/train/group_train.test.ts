// Members trained together in one pass (engine/train/group_trainer.ts) against each member's solo
// GPU run (trainOnGpu, itself held to the float64 reference): three members with their own model
// seed, data seed (split), learning rate and weight decay; every evaluation's metrics and every
// checkpoint's weights, AdamW moments and state words, to float tolerance; on a software adapter
// bit for bit, where every product and sum of a member runs in one model's kernel and order
// (a hardware GPU splits one model's long products along K, a group's not).
import * as assert from "node:assert/strict";
import { buildTask } from "../../engine/data/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { initParams, paramLayout } from "../../engine/model/params.ts";
import { trainOnGpu } from "../../engine/train/gpu_trainer.ts";
import { buildGroupStep, groupRefusal, trainGroupOnGpu } from "../../engine/train/group_trainer.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { freshState, type TrainState } from "../../engine/train/state.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { DEFAULT_TRAIN } from "../../engine/train/config.ts";
import { DEFAULT_MODEL } from "../../engine/model/config.ts";

/** What a run records: metrics by step, checkpoints by step. */
interface Record {
  metrics: Map<number, Record_>;
  checkpoints: Map<number, TrainState>;
}
type Record_ = { [k: string]: number };

function recorder(): Record & { hooks: Parameters<typeof trainOnGpu>[3] } {
  const metrics = new Map<number, Record_>();
  const checkpoints = new Map<number, TrainState>();
  return {
    metrics,
    checkpoints,
    hooks: {
      onMetrics: (step, m) => void metrics.set(step, m),
      onCheckpoint: (s) => void checkpoints.set(s.step, s),
      shouldStop: () => false,
    },
  };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** The members: each its own seeds, lr and weight decay, over `model` (the smoke preset's). */
function members(model: Partial<ModelConfig>) {
  const settings = [
    { seed: 1, data_seed: 598, lr: 1e-2, weight_decay: 1 },
    { seed: 2, data_seed: 7, lr: 5e-3, weight_decay: 0.3 },
    { seed: 3, data_seed: 11, lr: 1e-2, weight_decay: 3 },
  ];
  return settings.map((s) =>
    resolveConfig("smoke", {
      task: { data_seed: s.data_seed },
      model: { ...model, seed: s.seed },
      train: {
        steps: 12,
        eval_every: 5,
        checkpoint_every: 10,
        lr: s.lr,
        weight_decay: s.weight_decay,
      },
    }, "test")
  );
}

// The smoke preset with every bias trained, so the attention's and the unembedding's biases are
// summed and added per member too (one case: lavapipe compiles each kernel twice, solo and group).
gpuTest("three members trained together equal their solo runs", async (gpu) => {
  const configs = members({ trainable_biases: "all" });
  const layout = paramLayout(configs[0]!.model);
  const solo = [];
  for (const cfg of configs) {
    const r = recorder();
    const task = buildTask(cfg.task);
    const start = freshState(initParams(cfg.model, layout));
    await trainOnGpu(gpu, { model: cfg.model, layout, train: cfg.train, task }, start, r.hooks);
    solo.push(r);
  }
  const group = configs.map(() => recorder());
  await trainGroupOnGpu(
    gpu,
    { model: configs[0]!.model, layout },
    configs.map((cfg, g) => ({
      task: buildTask(cfg.task),
      train: cfg.train,
      state: freshState(initParams(cfg.model, layout)),
      hooks: group[g]!.hooks,
    })),
    { shouldStop: () => false },
  );
  for (const [g, s] of solo.entries()) {
    const r = group[g]!;
    assert.deepEqual([...r.metrics.keys()], [0, 5, 10, 12]);
    assert.deepEqual([...r.checkpoints.keys()], [...s.checkpoints.keys()]);
    for (const [step, m] of s.metrics) {
      const got = r.metrics.get(step)!;
      assert.deepEqual(Object.keys(got).sort(), Object.keys(m).sort());
      for (const k of Object.keys(m)) {
        const tol = 1e-4 * Math.max(1, Math.abs(m[k]!));
        assert.ok(
          Math.abs(got[k]! - m[k]!) <= tol,
          `member ${g} step ${step} ${k}: ${got[k]} vs ${m[k]}`,
        );
      }
    }
    for (const [step, c] of s.checkpoints) {
      const got = r.checkpoints.get(step)!;
      // b_K's gradient is 0 in exact arithmetic (softmax ignores a shift of every key's score):
      // both runs' is rounding noise, which Adam scales to steps of up to ~lr, so it is held to
      // that bound only; every other weight to 5e-5 (a few f32 ulps of weights ~0.1-1 a step).
      let dp = 0;
      for (const spec of layout.specs) {
        const part = (x: Float32Array) => x.subarray(spec.offset, spec.offset + spec.size);
        const d = maxDiff(part(got.params), part(c.params));
        const noise = spec.name.endsWith("attn.b_K");
        if (noise) assert.ok(d <= 3 * step * configs[g]!.train.lr, `${spec.name}: ${d}`);
        else dp = Math.max(dp, d);
      }
      const dm = maxDiff(got.m, c.m);
      const dv = maxDiff(got.v, c.v);
      console.log(`  member ${g} step ${step}: max |diff| params ${dp}, m ${dm}, v ${dv}`);
      assert.ok(dp < 5e-5 && dm < 2e-5 && dv < 1e-6, `member ${g} step ${step}`);
      if (gpu.adapter.isFallback) {
        assert.deepEqual([got.params, got.m, got.v], [c.params, c.m, c.v], `member ${g} bits`);
      }
      assert.deepEqual([...got.optimizer], [...c.optimizer], `member ${g} AdamW words`);
    }
    // The members differ from one another: each trained on its own settings.
    assert.ok(
      maxDiff(group[0]!.checkpoints.get(12)!.params, r.checkpoints.get(12)!.params) > 0 ||
        g === 0,
    );
  }
});

// What the sweep benchmark counts: a group's step is one model's dispatches, kernel for kernel,
// however many members it holds.
gpuTest("a group's step has one model's dispatches, whatever its members", async (gpu) => {
  const configs = members({ trainable_biases: "all" });
  const layout = paramLayout(configs[0]!.model);
  const kernels = async (cfgs: typeof configs) => {
    const built = await buildGroupStep(
      gpu,
      { model: cfgs[0]!.model, layout },
      cfgs.map((c) => ({
        task: buildTask(c.task),
        train: c.train,
        state: freshState(initParams(c.model, layout)),
      })),
    );
    const labels = built.step.map((d) => d.label);
    built.release();
    return labels;
  };
  const one = await kernels(configs.slice(0, 1));
  assert.ok(one.length > 0);
  assert.deepEqual(await kernels(configs), one, "three members: the same dispatches");
});

Deno.test("groups refuse minibatches, clipping and LayerNorm in one line", () => {
  assert.equal(
    groupRefusal(DEFAULT_MODEL, { ...DEFAULT_TRAIN, batch_size: 8 }),
    "minibatches (--batch-size 8)",
  );
  assert.equal(
    groupRefusal(DEFAULT_MODEL, { ...DEFAULT_TRAIN, grad_clip: 1 }),
    "gradient clipping (--grad-clip 1)",
  );
  assert.equal(
    groupRefusal({ ...DEFAULT_MODEL, normalization_type: "LN" }, DEFAULT_TRAIN),
    "LayerNorm (LN)",
  );
  assert.equal(groupRefusal(DEFAULT_MODEL, DEFAULT_TRAIN), undefined);
});
