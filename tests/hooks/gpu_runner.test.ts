// The GPU runner against the CPU runner (float64): the cache of every hook the GPU has, and each
// edit it supports, on tiny configs (1 and 2 layers, LayerNorm on and off, attention-only), with
// batches that are not powers of two (rows padded) and edits narrowed by rows, pos and head.
import * as assert from "node:assert/strict";
import { cpuRunner, gpuRunner, hookPoints, type Intervention } from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { Rng, Tensor } from "../../engine/tensor/mod.ts";
import { expectClose, gpuTest } from "../gpu/gpu_helpers.ts";
import { randomTokens, randomWeights, TINY } from "./hooks_helpers.ts";

const CONFIGS: [string, Partial<ModelConfig>][] = [
  ["1 layer, no LN", {}],
  ["1 layer, LN, gelu", { normalization_type: "LN", act_fn: "gelu" }],
  ["2 layers, LN", { n_layers: 2, normalization_type: "LN" }],
  ["attention-only, 2 layers", { attn_only: true, n_layers: 2 }],
];

/**
 * The largest |value| of the tensors: the f32 error of a value is a few ulps of the largest value it
 * is computed from (random weights of scale 0.5 make activations of 10 to 100); a wrong edit is off
 * by O(1) of the value.
 */
function largest(ts: Iterable<Tensor>): number {
  let m = 1;
  for (const t of ts) for (const x of t.data) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x));
  return m;
}

/** The edits the GPU supports, aimed at every kind of hook it can edit. */
function edits(cfg: ModelConfig, source: Tensor, B: number): Intervention[] {
  const last = `blocks.${cfg.n_layers - 1}`;
  const vector = new Tensor(Float64Array.from({ length: cfg.d_head }, (_, i) => i - 2), [
    cfg.d_head,
  ]);
  const out: Intervention[] = [
    { kind: "zero", name: "blocks.0.attn.hook_z", head: 1, rows: [1, B] },
    { kind: "mean", name: "blocks.0.attn.hook_v", head: 0 },
    { kind: "resample", name: "blocks.0.hook_attn_out", seed: 3, pos: 2 },
    // in 2 layers, this buffer is blocks.0.hook_resid_post's: its cache must stay unedited
    { kind: "patch", name: `${last}.hook_resid_pre`, source, pos: 1, rows: [0, B - 1] },
    { kind: "add", name: "blocks.0.attn.hook_q", vector, scale: 0.5, head: 2 },
  ];
  if (!cfg.attn_only) {
    out.push({ kind: "mean", name: `${last}.mlp.hook_post`, pos: 2 });
    out.push({ kind: "resample", name: `${last}.hook_resid_mid`, seed: 5 });
  }
  if (cfg.normalization_type === "LN") {
    out.push({ kind: "zero", name: "ln_final.hook_normalized", pos: 0 });
  }
  return out;
}

/** Every tensor of `cache` at `names`, end to end: one comparison, one max difference. */
function joined(cache: Map<string, Tensor>, names: readonly string[]): Tensor {
  const parts = names.map((n) => Array.from(cache.get(n)!.data));
  const all = Float64Array.from(parts.flat());
  return new Tensor(all, [all.length]);
}

for (const [label, overrides] of CONFIGS) {
  gpuTest(
    `gpu runner vs cpu runner (${label}): cache of every GPU hook, and each edit`,
    async (gpu) => {
      const cfg = { ...TINY, ...overrides };
      const rng = new Rng(21);
      const weights = randomWeights(cfg, rng);
      const cpu = cpuRunner(cfg, weights);
      const runner = await gpuRunner(gpu, cfg, weights, { maxBatch: 16 });
      for (const B of [5, 1]) {
        const tokens = randomTokens(cfg, B, rng);
        // The embeddings have no GPU buffer, but are cached from the weights all the same.
        const names = hookPoints(cfg, B, cfg.n_ctx)
          .filter((p) => p.gpu || p.name === "hook_embed" || p.name === "hook_pos_embed")
          .map((p) => p.name);
        const want = await cpu.runWithCache(tokens, B, { names });
        const got = await runner.runWithCache(tokens, B, { names });
        const tol = 3e-6 * largest([want.logits, ...want.cache.values()]);
        expectClose(got.logits, want.logits, tol, `B ${B}: logits [${got.logits.shape}]`);
        assert.deepEqual([...got.cache.keys()].sort(), [...names].sort());
        for (const n of names) {
          expectClose(got.cache.get(n)!, want.cache.get(n)!, tol, `B ${B}: ${n}`);
        }
      }
      const B = 7;
      const tokens = randomTokens(cfg, B, rng);
      const last = `blocks.${cfg.n_layers - 1}.hook_resid_pre`;
      const other = await cpu.runWithCache(randomTokens(cfg, 3, rng), 3, { names: [last] });
      const source = other.cache.get(last)!;
      const names = hookPoints(cfg, B, cfg.n_ctx).filter((p) => p.gpu).map((p) => p.name);
      for (const iv of edits(cfg, source, B)) {
        const want = await cpu.runWithHooks(tokens, B, [iv], { names });
        const got = await runner.runWithHooks(tokens, B, [iv], { names });
        const tol = 3e-6 * largest([want.logits, ...want.cache.values()]);
        expectClose(got.logits, want.logits, tol, `${iv.kind} ${iv.name}: logits`);
        for (const n of names) {
          assert.deepEqual(got.cache.get(n)!.shape, want.cache.get(n)!.shape, n);
        }
        const what = `${iv.kind} ${iv.name}: every hook`;
        expectClose(joined(got.cache, names), joined(want.cache, names), tol, what);
      }
      runner.release();
    },
  );
}

gpuTest(
  "gpu runner: what the GPU cannot do is a one-line error that says to use cpuRunner",
  async (gpu) => {
    const cfg = { ...TINY, normalization_type: "LN" as const };
    const rng = new Rng(22);
    const runner = await gpuRunner(gpu, cfg, randomWeights(cfg, rng), { maxBatch: 4 });
    const tokens = randomTokens(cfg, 2, rng);
    await assert.rejects(
      runner.runWithCache(tokens, 2, { names: ["blocks.0.attn.hook_attn_scores"] }),
      /^Error: blocks\.0\.attn\.hook_attn_scores is not on the GPU model; use cpuRunner for it$/,
    );
    await assert.rejects(
      runner.runWithHooks(tokens, 2, [{ kind: "zero", name: "hook_embed" }]),
      /^Error: hook_embed is not on the GPU model; use cpuRunner for it$/,
    );
    await assert.rejects(
      runner.runWithHooks(tokens, 2, [{ kind: "zero", name: "blocks.0.attn.hook_pattern" }]),
      /cannot edit blocks\.0\.attn\.hook_pattern on the GPU: its attention kernel computes the pattern and z together; use cpuRunner/,
    );
    await assert.rejects(
      runner.runWithHooks(tokens, 2, [{ kind: "zero", name: "blocks.0.ln1.hook_scale" }]),
      /cannot edit blocks\.0\.ln1\.hook_scale on the GPU/,
    );
    await assert.rejects(
      runner.runWithCache(tokens.subarray(0, 4), 2),
      /rows of 2 positions, but the GPU model runs n_ctx 3; use cpuRunner/,
    );
    await assert.rejects(
      runner.runWithCache(randomTokens(cfg, 5, rng), 5),
      /batch 5 exceeds maxBatch 4/,
    );
    await assert.rejects(
      runner.runWithCache(tokens, 2, { names: ["blocks.0.hook_resid"] }),
      /unknown hook blocks\.0\.hook_resid; closest: blocks\.0\.hook_resid_pre/,
    );
    runner.release();
  },
);
