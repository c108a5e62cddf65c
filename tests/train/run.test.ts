// A training run end to end on a tiny task: the run folder's contents against the task and the
// layout, an interrupted-then-resumed run bitwise equal to an uninterrupted one (on the GPU and on
// the CPU), and the CPU and GPU paths agreeing to f32 rounding.
import * as assert from "node:assert/strict";
import { initParams, paramLayout } from "../../engine/model/params.ts";
import {
  acquireLock,
  lockHolder,
  openRunFolder,
  readCheckpointParams,
  readSafetensors,
} from "../../engine/runs/mod.ts";
import { buildTask, IGNORE } from "../../engine/data/mod.ts";
import { gpuTrainBatch, trainBatch } from "../../engine/train/batches.ts";
import type { Device } from "../../engine/gpu/mod.ts";
import type { RunConfig } from "../../engine/runs/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { resumeRun, startRun } from "../../engine/train/run.ts";
import { GPU } from "../gpu/gpu_helpers.ts";
import { withTempDir } from "../helpers.ts";

const devices: Device[] = ["gpu", "cpu"];

/**
 * A test that trains in a temporary runs folder on `device`; one on the GPU is ignored without an
 * adapter, or fails under CI=true. WebGPU keeps async work alive: no sanitizers.
 */
function runTest(name: string, device: Device, fn: (parent: string) => Promise<void>): void {
  const def = { name, sanitizeOps: false, sanitizeResources: false, fn: () => withTempDir(fn) };
  if (device === "gpu") GPU.test(def);
  else Deno.test(def);
}

/** p = 7 addition (or `task`'s), a model of width 8: a few seconds on any device. */
function tiny(batchSize = 0, task = { p: 7, frac_train: 0.5 }): RunConfig {
  return resolveConfig("smoke", {
    task,
    model: { d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16 },
    train: { steps: 20, eval_every: 5, checkpoint_every: 10, lr: 1e-2, batch_size: batchSize },
  }, "test");
}

async function metrics(path: string) {
  return (await (await openRunFolder(path)).readMetrics()).map(({ time_s: _, ...m }) => m);
}

for (const device of devices) {
  runTest(
    `run (${device}): folder, metrics and checkpoints as the task and layout say`,
    device,
    async (parent) => {
      const cfg = tiny();
      const folder = await startRun(cfg, { parent, name: "a", force: false }, { device });
      const saved = await folder.readJson<RunConfig>("config.json");
      assert.deepEqual(saved, cfg);
      assert.deepEqual(await folder.readJson("split.json"), buildTask(cfg.task).split());
      const lines = await metrics(folder.path);
      assert.deepEqual(lines.map((m) => m.step), [0, 5, 10, 15, 20]);
      for (const key of ["lr", "train/loss", "train/acc", "test/loss", "test/acc"]) {
        assert.ok(lines.every((m) => Number.isFinite(m[key])), key);
      }
      assert.ok(lines.at(-1)!["train/loss"]! < lines[0]!["train/loss"]!, "the loss falls");
      const final = await readSafetensors(folder.finalPath());
      assert.equal(final.metadata.step, "20");
      assert.deepEqual(JSON.parse(final.metadata.config!), cfg.model);
      const specs = paramLayout(cfg.model).specs;
      assert.deepEqual([...final.tensors.keys()], specs.map((s) => s.name));
      for (const s of specs) assert.deepEqual(final.tensors.get(s.name)!.shape, s.shape);
      assert.deepEqual((await folder.listCheckpoints()).map((c) => c.step), [0, 10, 20]);
      // Step 0 is written before training: the initial weights, as initParams makes them.
      const layout = paramLayout(cfg.model);
      const zero = await readCheckpointParams(folder.checkpointPath(0), layout);
      assert.equal(zero.step, 0);
      assert.deepEqual(zero.params, initParams(cfg.model, layout));
      await assert.rejects(
        startRun(cfg, { parent, name: "a", force: false }, { device }),
        /exists; pass --force/,
      );
      assert.equal(await lockHolder(folder.path), undefined, "the lock is let go at the end");
    },
  );

  runTest(
    `run (${device}): checkpoints every checkpoint_every even where eval_every differs`,
    device,
    async (parent) => {
      const cfg = tiny();
      cfg.train = { ...cfg.train, eval_every: 3, checkpoint_every: 5 };
      const folder = await startRun(cfg, { parent, name: "c", force: false }, { device });
      assert.deepEqual((await folder.listCheckpoints()).map((c) => c.step), [0, 5, 10, 15, 20]);
      assert.deepEqual((await metrics(folder.path)).map((m) => m.step), [
        0,
        3,
        6,
        9,
        12,
        15,
        18,
        20,
      ]);
    },
  );

  runTest(
    `run (${device}): stopped at once, resumed twice: one line per step, time in order`,
    device,
    async (parent) => {
      const cfg = tiny();
      const whole = await startRun(cfg, { parent, name: "whole", force: false }, { device });
      const cut = await startRun(cfg, { parent, name: "cut", force: false }, {
        device,
        shouldStop: () => true, // before the first step
      });
      let at = 0;
      await resumeRun(cut.path, {
        device,
        onMetrics: (step) => (at = step),
        shouldStop: () => at >= 5, // at the first evaluation after step 0
      });
      await resumeRun(cut.path, { device });
      const lines = await (await openRunFolder(cut.path)).readMetrics();
      assert.deepEqual(lines.map((m) => m.step), (await metrics(whole.path)).map((m) => m.step));
      const times = lines.map((m) => m.time_s!);
      assert.deepEqual(times, [...times].sort((a, b) => a - b), `time_s in order: ${times}`);
    },
  );

  for (const batchSize of [0, 6]) {
    const batch = batchSize === 0 ? "full batch" : `minibatches of ${batchSize}`;
    runTest(
      `run (${device}, ${batch}): stopped at step 10 and resumed, bitwise uninterrupted`,
      device,
      async (parent) => {
        const cfg = tiny(batchSize);
        const whole = await startRun(cfg, { parent, name: "whole", force: false }, { device });
        let at = 0;
        const cut = await startRun(cfg, { parent, name: "cut", force: false }, {
          device,
          onMetrics: (step) => (at = step),
          shouldStop: () => at >= 10,
        });
        const stopped = await readSafetensors(cut.finalPath());
        assert.equal(stopped.metadata.step, "10");
        await resumeRun(cut.path, { device });
        const [a, b] = await Promise.all([whole, cut].map((f) => readSafetensors(f.finalPath())));
        for (const [name, t] of a!.tensors) {
          assert.deepEqual(b!.tensors.get(name)!.data, t.data, name);
        }
        assert.deepEqual(await metrics(cut.path), await metrics(whole.path));
      },
    );
  }
  runTest(
    `run (${device}): stopped between evaluations and checkpoints, resumed: bitwise uninterrupted`,
    device,
    async (parent) => {
      const cfg = tiny(6);
      cfg.train = { ...cfg.train, eval_every: 5, checkpoint_every: 7 };
      const whole = await startRun(cfg, { parent, name: "whole", force: false }, { device });
      // The third question: at step 2 on the CPU (asked before each step), at step 7 on the GPU
      // (asked each submit: after 5, then at the checkpoint 7). Neither is an evaluation step.
      let asked = 0;
      const cut = await startRun(cfg, { parent, name: "cut", force: false }, {
        device,
        shouldStop: () => ++asked === 3,
      });
      const stoppedAt = Number((await readSafetensors(cut.finalPath())).metadata.step);
      assert.equal(stoppedAt, device === "cpu" ? 2 : 7);
      assert.equal((await metrics(cut.path)).at(-1)!.step, stoppedAt, "the stop step is logged");
      await resumeRun(cut.path, { device });
      await assertSameRun(whole.path, cut.path);
    },
  );

  runTest(
    `run (${device}): a finished run extended with --steps is the longer run, bitwise`,
    device,
    async (parent) => {
      const cfg = tiny();
      const whole = await startRun(cfg, { parent, name: "whole", force: false }, { device });
      const short = { ...cfg, train: { ...cfg.train, steps: 13 } };
      const grown = await startRun(short, { parent, name: "grown", force: false }, { device });
      assert.deepEqual((await metrics(grown.path)).map((m) => m.step), [0, 5, 10, 13]);
      await resumeRun(grown.path, { device, steps: 20 });
      assert.deepEqual(await grown.readJson("config.json"), cfg, "config.json says 20 steps");
      await assertSameRun(whole.path, grown.path);
    },
  );
}

/** Two runs' final weights, checkpoints and metrics (but time) are the same, bit for bit. */
async function assertSameRun(expected: string, actual: string) {
  const [a, b] = await Promise.all([expected, actual].map(openRunFolder));
  const [wa, wb] = await Promise.all([a!, b!].map((f) => readSafetensors(f.finalPath())));
  assert.equal(wb!.metadata.step, wa!.metadata.step);
  for (const [name, t] of wa!.tensors) assert.deepEqual(wb!.tensors.get(name)!.data, t.data, name);
  const steps = async (f: typeof a) => (await f!.listCheckpoints()).map((c) => c.step);
  assert.deepEqual(await steps(b), await steps(a));
  assert.deepEqual(await metrics(actual), await metrics(expected));
}

runTest("run: --steps extends only, and not a cosine schedule", "cpu", async (parent) => {
  const cfg = tiny();
  cfg.train = { ...cfg.train, steps: 2 };
  const run = await startRun(cfg, { parent, name: "a", force: false }, { device: "cpu" });
  await assert.rejects(
    resumeRun(run.path, { device: "cpu", steps: 1 }),
    /^RangeError: --steps 1: the run has 2 steps; --resume --steps can only extend it$/,
  );
  const config = await run.readJson<RunConfig>("config.json");
  await run.writeJson("config.json", { ...config, train: { ...config.train, schedule: "cosine" } });
  await assert.rejects(
    resumeRun(run.path, { device: "cpu", steps: 4 }),
    /--steps 4: the run's cosine schedule spans its 2 steps/,
  );
  assert.equal((await run.readJson<RunConfig>("config.json")).train.steps, 2, "unchanged");
});

/** p = 59 at 0.3: 1,044 training rows, which the GPU pads to 1,088 with rows of weight 0. */
const PADDED = { p: 59, frac_train: 0.3 };

const AGREEING: [string, RunConfig][] = [
  ["batch size 0", tiny(0)],
  ["batch size 6", tiny(6)],
  ["1,044 training rows, padded to 1,088 on the GPU", tiny(0, PADDED)],
];

Deno.test("run: the GPU's full batch of 1,044 rows is padded to 1,088 that add nothing", () => {
  const task = buildTask(tiny(0, PADDED).task);
  const [plain, padded] = [trainBatch(task), gpuTrainBatch(task)];
  assert.deepEqual([plain.size, padded.size], [1044, 1088]);
  assert.deepEqual(padded.tokens.subarray(0, 1044 * 3), plain.tokens);
  assert.deepEqual(padded.targets.subarray(0, 1044 * 3), plain.targets);
  assert.deepEqual(padded.weights.subarray(0, 1044), plain.weights);
  assert.ok(padded.targets.subarray(1044 * 3).every((t) => t === IGNORE), "nothing scored");
  assert.ok(padded.weights.subarray(1044).every((w) => w === 0), "weight 0");
});

for (const [what, cfg] of AGREEING) {
  runTest(
    `run: the CPU (f32 on workers) and GPU (f32) paths agree (${what})`,
    "gpu",
    async (parent) => {
      const [g, c] = [
        await startRun(cfg, { parent, name: "g", force: false }, { device: "gpu" }),
        await startRun(cfg, { parent, name: "c", force: false }, { device: "cpu" }),
      ];
      const [mg, mc] = [await metrics(g.path), await metrics(c.path)];
      for (let i = 0; i < mg.length; i++) {
        for (const key of ["train/loss", "test/loss"]) {
          // f32 summed in two orders (and the CPU evaluates in f64), 20 steps of Adam apart:
          // agreement to 1e-3 relative.
          const [x, y] = [mg[i]![key]!, mc[i]![key]!];
          assert.ok(
            Math.abs(x - y) <= 1e-3 * Math.abs(y),
            `${key} at ${mg[i]!.step}: ${x} vs ${y}`,
          );
        }
      }
    },
  );
}

runTest(
  "run: a folder whose lock is held is neither resumed nor overwritten",
  "cpu",
  async (parent) => {
    const cfg = tiny();
    const folder = await startRun(cfg, { parent, name: "held", force: false }, {
      device: "cpu",
      shouldStop: () => true,
    });
    const lock = await acquireLock(folder.path, { command: "train" });
    try {
      const held = new RegExp(
        `: ${folder.path} is in use: run.lock is held by process ${Deno.pid} `,
      );
      await assert.rejects(resumeRun(folder.path, { device: "cpu" }), held);
      await assert.rejects(
        startRun(cfg, { parent, name: "held", force: true }, { device: "cpu" }),
        held,
      );
      assert.deepEqual(await folder.readJson("config.json"), cfg, "the held run is untouched");
    } finally {
      lock.release();
    }
    await resumeRun(folder.path, { device: "cpu" }); // free again
    assert.equal((await metrics(folder.path)).at(-1)!.step, cfg.train.steps);
  },
);
