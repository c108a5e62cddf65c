// The GPU runner against the CPU runner (float64): the cache of every hook the GPU has, each head's
// hook_result among them, and each edit it supports, on tiny configs (1 and 2 layers, LayerNorm on
// and off, attention-only), with batches that are not powers of two (rows padded) and edits
// narrowed by rows, pos and head.
import * as assert from "node:assert/strict";
import { cpuRunner, gpuRunner, hookPoints, type Intervention } from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { add, einsum, mul, Rng, slice, sub, sum, Tensor } from "../../engine/tensor/mod.ts";
import { expectClose, gpuTest } from "../gpu/gpu_helpers.ts";
import { assertSame, randomTokens, randomWeights, TINY } from "./hooks_helpers.ts";

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
        // hook_embed, hook_pos_embed and hook_result have no buffer, but are cached all the same.
        const names = hookPoints(cfg, B, cfg.n_ctx).filter((p) => p.gpu).map((p) => p.name);
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

for (const [label, overrides] of CONFIGS) {
  gpuTest(
    `gpu runner hook_result (${label}): z·W_O per head, after an edit of hook_z`,
    async (gpu) => {
      const cfg = { ...TINY, ...overrides };
      const { n_layers: L, d_head: E } = cfg;
      const rng = new Rng(23);
      const weights = randomWeights(cfg, rng);
      const cpu = cpuRunner(cfg, weights);
      const runner = await gpuRunner(gpu, cfg, weights, { maxBatch: 8 });
      const B = 6; // padded to 8
      const tokens = randomTokens(cfg, B, rng);
      const layers = Array.from({ length: L }, (_, l) => `blocks.${l}`);
      const names = layers.flatMap((b) => [`${b}.attn.hook_result`, `${b}.hook_attn_out`]);
      const plain = await runner.runWithCache(tokens, B, { names });
      const want = await cpu.runWithCache(tokens, B, { names });
      const tol = 3e-6 * largest(want.cache.values());
      for (const b of layers) {
        const result = plain.cache.get(`${b}.attn.hook_result`)!; // [B, T, H, D]
        expectClose(result, want.cache.get(`${b}.attn.hook_result`)!, tol, `${b}.attn.hook_result`);
        // The heads' results add up to the attention output, as TransformerLens' do.
        const summed = add(sum(result, 2), weights.get(`${b}.attn.b_O`)!);
        expectClose(summed, plain.cache.get(`${b}.hook_attn_out`)!, tol, `Σ_h result + b_O (${b})`);
      }

      // Steer head 1 of layer 0 in rows 1..B: its result moves by scale·v·W_O[1], the others stay.
      const vector = new Tensor(Float64Array.from({ length: E }, (_, i) => 1 - i), [E]);
      const iv: Intervention = {
        kind: "add",
        name: "blocks.0.attn.hook_z",
        head: 1,
        rows: [1, B],
        vector,
        scale: 0.5,
      };
      const edited = await runner.runWithHooks(tokens, B, [iv], { names });
      const wantEdited = await cpu.runWithHooks(tokens, B, [iv], { names });
      for (const name of names) {
        expectClose(edited.cache.get(name)!, wantEdited.cache.get(name)!, tol, `edited: ${name}`);
      }
      const before = plain.cache.get("blocks.0.attn.hook_result")!;
      const after = edited.cache.get("blocks.0.attn.hook_result")!;
      const W_O = weights.get("blocks.0.attn.W_O")!; // [H, E, D]
      const shift = mul(einsum("e,ed->d", vector, slice(W_O, "1")), 0.5); // [D]
      const moved = sub(slice(after, "1:, :, 1"), slice(before, "1:, :, 1")); // [B-1, T, D]
      expectClose(moved, add(mul(moved, 0), shift), tol, "edited head 1: result − before");
      for (const h of [0, 2]) {
        assertSame(slice(after, `:, :, ${h}`), slice(before, `:, :, ${h}`), `head ${h}`);
      }
      assertSame(slice(after, "0"), slice(before, "0"), "row 0, outside the edit");
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
      /^Error: cannot edit hook_embed on the GPU: its embedding kernel writes only their sum; edit blocks\.0\.hook_resid_pre \(their sum\) or use cpuRunner$/,
    );
    await assert.rejects(
      runner.runWithHooks(tokens, 2, [{
        kind: "zero",
        name: "blocks.0.attn.hook_result",
        head: 0,
      }]),
      /^Error: cannot edit blocks\.0\.attn\.hook_result on the GPU: [^\n]*; edit blocks\.0\.attn\.hook_z \(the same per-head output before W_O\) or use cpuRunner$/,
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
