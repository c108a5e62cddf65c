// The transformer on the GPU against the float64 CPU model (itself held to PyTorch and to finite
// differences): logits, per-example loss, every hook, and every weight's gradient, on tiny configs
// covering LayerNorm on and off, each act_fn, attention-only, two layers, both bias settings and
// the shortformer positional embedding (W_pos in each layer's q and k only), scoring each
// example's last position (the one-answer tasks) or every position, some unscored.
import * as assert from "node:assert/strict";
import { IGNORE, lastColumn } from "../../engine/data/task.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { cpuEval, cpuLossAndGrads } from "../../engine/model/cpu_model.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { buildGpuModel } from "../../engine/model/gpu_model.ts";
import { flatten, paramLayout, unflatten } from "../../engine/model/params.ts";
import { Rng, slice, Tensor } from "../../engine/tensor/mod.ts";
import { expectClose, gpuTest } from "../gpu/gpu_helpers.ts";
import { TINY as HOOKS_TINY } from "../hooks/hooks_helpers.ts";

/** The hook tests' tiny model, but with the grokking model's default: only MLP biases train. */
const TINY: ModelConfig = { ...HOOKS_TINY, trainable_biases: "mlp" };

/**
 * Each config, its batch (37 rows of n_ctx 3, or 3 rows of a context over 7 tiles of 32), and the
 * positions it scores.
 */
const CONFIGS: [string, Partial<ModelConfig>, number, "last" | "all"][] = [
  ["relu, no LN, mlp biases", {}, 37, "last"],
  [
    "gelu, LN, all biases",
    { act_fn: "gelu", normalization_type: "LN", trainable_biases: "all" },
    37,
    "last",
  ],
  [
    "gelu_new, 2 layers, LN",
    { act_fn: "gelu_new", n_layers: 2, normalization_type: "LN" },
    37,
    "last",
  ],
  [
    "attention-only, 2 layers",
    { attn_only: true, n_layers: 2, trainable_biases: "all" },
    37,
    "last",
  ],
  ["n_ctx 200, 2 layers, LN", { n_ctx: 200, n_layers: 2, normalization_type: "LN" }, 3, "last"],
  [
    "every position, gelu, LN, all biases",
    { act_fn: "gelu", normalization_type: "LN", trainable_biases: "all" },
    37,
    "all",
  ],
  ["every position, attention-only, 2 layers", { attn_only: true, n_layers: 2 }, 37, "all"],
  [
    "every position, n_ctx 200, 2 layers, LN",
    { n_ctx: 200, n_layers: 2, normalization_type: "LN" },
    3,
    "all",
  ],
  [
    "every position, shortformer, attention-only, 2 layers, LN",
    {
      attn_only: true,
      n_layers: 2,
      normalization_type: "LN",
      trainable_biases: "all",
      positional_embedding_type: "shortformer",
    },
    37,
    "all",
  ],
  [
    "shortformer, n_ctx 200, 2 layers, LN",
    { n_ctx: 200, n_layers: 2, normalization_type: "LN", positional_embedding_type: "shortformer" },
    3,
    "last",
  ],
];

/** Random weights, biases and LayerNorm parameters included, so every path carries signal. */
function randomWeights(cfg: ModelConfig, rng: Rng): Map<string, Tensor> {
  const layout = paramLayout(cfg);
  const weights = new Map<string, Tensor>();
  for (const s of layout.specs) {
    const scale = s.init === "normal" ? 0.5 : 0.2;
    const data = Float64Array.from({ length: s.size }, () => {
      const x = Math.fround(scale * rng.normal() + (s.init === "ones" ? 1 : 0));
      return s.trainable || s.init !== "zeros" ? x : 0; // held biases stay 0, as in training
    });
    weights.set(s.name, new Tensor(data, s.shape));
  }
  return weights;
}

for (const [name, overrides, B, scored] of CONFIGS) {
  gpuTest(`gpu model vs cpu model (${name}): logits, loss, hooks, every gradient`, async (gpu) => {
    const cfg = { ...TINY, ...overrides };
    const layout = paramLayout(cfg);
    const rng = new Rng(31);
    const weights = randomWeights(cfg, rng);
    const T = cfg.n_ctx;
    const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab));
    // [B, T]: the last position's answer, or every position's with one in five unscored.
    const targets = Int32Array.from({ length: B * T }, (_, i) => {
      const last = i % T === T - 1;
      return (scored === "last" ? !last : i % 5 === 2) ? IGNORE : rng.int(cfg.d_vocab_out);
    });
    const rowWeights = Float64Array.from({ length: B }, (_, i) => (i % 3 + 1) / (2 * B));

    const params = gpu.upload(flatten(layout, weights), [layout.size]);
    const grads = gpu.zeros([layout.size]);
    const patternGrads = gpu.zeros([layout.size]);
    const leanGrads = gpu.zeros([layout.size]);
    // Training runs the tiled attention (no hook_pattern); the probe keeps the pattern, as a
    // hooked run that caches it does, and so does a second trainer (the materialising backward):
    // both kernels, forward and backward, are held to the CPU model here.
    const fit = await buildGpuModel(gpu, cfg, layout, { batch: B, params, grads, scored });
    const probe = await buildGpuModel(gpu, cfg, layout, {
      batch: B,
      params,
      pattern: true,
      scored,
    });
    const fitPattern = await buildGpuModel(gpu, cfg, layout, {
      batch: B,
      params,
      grads: patternGrads,
      pattern: true,
      scored,
    });
    // As the trainers build it: only the loss is read, so a model scoring the last position runs
    // its last MLP there alone (`lossOnly`).
    const lean = await buildGpuModel(gpu, cfg, layout, {
      batch: B,
      params,
      grads: leanGrads,
      scored,
      lossOnly: true,
    });
    const lastPre = lean.hooks.get(`blocks.${cfg.n_layers - 1}.mlp.hook_pre`)?.shape;
    const rows = scored === "last" ? [B, 1] : [B, T];
    assert.deepEqual(
      lastPre,
      cfg.attn_only ? undefined : [...rows, cfg.d_mlp],
      "the last MLP's rows",
    );
    assert.ok(!fit.hooks.has("blocks.0.attn.hook_pattern"), "training keeps no pattern");
    for (const m of [fit, probe, fitPattern, lean]) {
      gpu.write(m.tokens, tokens);
      gpu.write(m.targets, scored === "last" ? lastColumn(targets, T) : targets);
    }
    for (const m of [fit, fitPattern, lean]) {
      gpu.write(m.rowWeights!, Float32Array.from(rowWeights));
    }
    gpu.run([
      ...fit.forward,
      ...fit.backward,
      ...probe.forward,
      ...fitPattern.forward,
      ...fitPattern.backward,
      ...lean.forward,
      ...lean.backward,
    ]);
    const hookNames = [...probe.hooks.keys()].filter((h) => h !== "logits");
    const fitNames = [...fit.hooks.keys()].filter((h) => h !== "logits");
    const [g, gPattern, gLean, leanLoss, leanLogits, loss, correct, logits, ...hooks] = await gpu
      .read([
        grads,
        patternGrads,
        leanGrads,
        lean.loss,
        lean.logits,
        fit.loss,
        probe.correct!,
        probe.logits,
        ...hookNames.map((h) => probe.hooks.get(h)!),
        ...fitNames.map((h) => fit.hooks.get(h)!),
      ]);

    // f32 against f64 through a few layers of width ≤ 19: a few ulps of the largest activation
    // (random weights of scale 0.5 with random biases make it 10 to 100), which every later
    // value inherits (a pattern's error is its scores' error times a probability). A wrong
    // kernel is off by far more: O(0.1) of the value.
    const { logits: want, cache } = cpuForward(cfg, weights, tokens, B, { cache: true });
    let largest = 1;
    for (const t of cache!.values()) {
      for (const x of t.data) if (Number.isFinite(x)) largest = Math.max(largest, Math.abs(x));
    }
    const rel = (_: Tensor) => 2e-6 * largest;
    const U = cfg.d_vocab_out;
    const scoredLogits = scored === "last" ? slice(want, `:, ${T - 1}`) : want.reshape([B * T, U]);
    expectClose(logits!, scoredLogits, rel(want), `logits at the scored positions (${scored})`);
    expectClose(leanLogits!, scoredLogits, rel(want), "logits (loss only)");
    const evalRef = cpuEval(cfg, weights, tokens, targets, B); // [B, T]
    /** The scored rows of a `[B, T]` array: column T - 1, or all of it. */
    const pick = (a: Float64Array) =>
      scored === "last" ? Float64Array.from({ length: B }, (_, r) => a[r * T + T - 1]!) : a;
    const lossRef = new Tensor(pick(evalRef.loss), [loss!.size]);
    expectClose(loss!, lossRef, rel(want), "per-position loss");
    expectClose(leanLoss!, lossRef, rel(want), "per-position loss (loss only)");
    assert.deepEqual([...correct!.data], [...pick(evalRef.correct)], "correct");
    [...hookNames, ...fitNames].forEach((h, i) => {
      const ref = cache!.get(h);
      assert.ok(ref !== undefined, `the CPU model has hook ${h}`);
      const what = i < hookNames.length ? h : `${h} (training, tiled attention)`;
      expectClose(hooks[i]!, ref!.reshape(hooks[i]!.shape), rel(ref!), what);
    });
    const ref = cpuLossAndGrads(cfg, weights, tokens, targets, rowWeights, B);
    const got = unflatten(layout, g!.data);
    const gotPattern = unflatten(layout, gPattern!.data);
    const gotLean = unflatten(layout, gLean!.data);
    // Gradients are sums over up to 600 rows: tolerance relative to their size, with a floor at
    // 3% of the largest gradient, since a gradient that is exactly 0 (b_K's: a shift of every
    // key leaves the softmax as it is) comes out of f32 as a cancellation of terms that size.
    const size = (t: Tensor) => Math.max(...Array.from(t.data, Math.abs));
    const largestGrad = Math.max(...[...ref.grads.values()].map(size));
    for (const s of layout.specs) {
      const want = ref.grads.get(s.name)!;
      const scale = Math.max(size(want), 0.03 * largestGrad, 1e-3);
      expectClose(got.get(s.name)!, want, 3e-5 * scale, `grad ${s.name}`);
      expectClose(gotPattern.get(s.name)!, want, 3e-5 * scale, `grad ${s.name} (pattern kept)`);
      expectClose(gotLean.get(s.name)!, want, 3e-5 * scale, `grad ${s.name} (loss only)`);
    }
    for (const t of [params, grads, patternGrads, leanGrads]) t.release();
    for (const m of [fit, probe, fitPattern, lean]) m.release();
  });
}
