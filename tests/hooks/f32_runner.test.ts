// The f32 runner (the fast CPU model with hooks) against the float64 runner, the reference: the
// logits and the cache of every hook point, each edit (those the GPU has and the ones only the CPU
// has: the embeddings, scores, pattern, each head's result, LayerNorm's scale), and runWithGrads'
// gradients, on tiny configs (LayerNorm on, off and LNPre, attention-only, shortformer), then on an
// imported tiny GPT-2 and a briefly trained induction run, where activation and attribution
// patching must give the same sweeps. Tolerance: f32 rounding, a few ulps of the largest value a
// tensor is computed from; a wrong hook or edit is off by O(1) of the value.
import * as assert from "node:assert/strict";
import { attributionSweep } from "../../engine/analysis/attribution.ts";
import { logitDiffMetric, patchingSweep } from "../../engine/analysis/patching.ts";
import { checkpointWeights, openAnalysisRun } from "../../engine/analysis/run_data.ts";
import {
  cpuRunner,
  f32Runner,
  gradHookPoint,
  type HookedRunner,
  hookPoints,
  type Intervention,
} from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { Rng, Tensor } from "../../engine/tensor/mod.ts";
import { mechlab, withTempDir } from "../helpers.ts";
import { importTinyGpt2 } from "../runs/hf_gpt2.ts";
import { randomWeights, TINY } from "./hooks_helpers.ts";

const CONFIGS: [string, Partial<ModelConfig>][] = [
  ["1 layer, no LN", {}],
  ["2 layers, LN, gelu_new", { n_layers: 2, normalization_type: "LN", act_fn: "gelu_new" }],
  ["attention-only, 2 layers, LNPre", {
    attn_only: true,
    n_layers: 2,
    normalization_type: "LNPre",
  }],
  ["shortformer, 2 layers, LN", {
    n_layers: 2,
    normalization_type: "LN",
    positional_embedding_type: "shortformer",
  }],
];

/** The largest finite |value| of the tensors (at least 1). */
function largest(ts: Iterable<Tensor>): number {
  let m = 1;
  for (const t of ts) for (const x of t.data) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x));
  return m;
}

/** Asserts the same shape and every value within `tol` (equal infinities, the masked scores, pass). */
function expectNear(actual: Tensor, expected: Tensor, tol: number, what: string): number {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let diff = 0;
  for (let i = 0; i < actual.data.length; i++) {
    const [a, e] = [actual.data[i]!, expected.data[i]!];
    diff = Math.max(diff, a === e ? 0 : Math.abs(a - e));
  }
  assert.ok(diff <= tol, `${what}: max |diff| ${diff.toExponential(2)} > ${tol.toExponential(1)}`);
  return diff;
}

/** Every hook and the logits of two results, within 3e-6 of the largest value. */
function expectSameRun(
  got: { logits: Tensor; cache: Map<string, Tensor> },
  want: { logits: Tensor; cache: Map<string, Tensor> },
  what: string,
): void {
  const tol = 3e-6 * largest([want.logits, ...want.cache.values()]);
  let worst = expectNear(got.logits, want.logits, tol, `${what}: logits`);
  assert.deepEqual([...got.cache.keys()].sort(), [...want.cache.keys()].sort(), what);
  for (const [n, t] of want.cache) {
    worst = Math.max(worst, expectNear(got.cache.get(n)!, t, tol, `${what}: ${n}`));
  }
  console.log(
    `  ${what}: max |diff| ${worst.toExponential(2)} (tolerance ${tol.toExponential(1)})`,
  );
}

/** Every edit kind, at every kind of hook the CPU can edit. */
function edits(cfg: ModelConfig, source: Tensor, B: number): Intervention[] {
  const last = `blocks.${cfg.n_layers - 1}`;
  const vector = (n: number) => new Tensor(Float64Array.from({ length: n }, (_, i) => i - 2), [n]);
  const out: Intervention[] = [
    { kind: "zero", name: "blocks.0.attn.hook_z", head: 1, rows: [1, B] },
    { kind: "mean", name: "blocks.0.attn.hook_v", head: 0 },
    { kind: "resample", name: "blocks.0.hook_attn_out", seed: 3, pos: 2 },
    { kind: "patch", name: `${last}.hook_resid_pre`, source, pos: 1, rows: [0, B - 1] },
    { kind: "add", name: "blocks.0.attn.hook_q", vector: vector(cfg.d_head), scale: 0.5, head: 2 },
    { kind: "add", name: "blocks.0.attn.hook_k", vector: vector(cfg.d_head), head: 0 },
    { kind: "zero", name: "hook_embed", pos: 1 },
    { kind: "mean", name: `${last}.attn.hook_pattern`, head: 1 },
    { kind: "zero", name: "blocks.0.attn.hook_attn_scores", head: 2, pos: 3 },
    { kind: "zero", name: `${last}.attn.hook_result`, head: 0 },
    { kind: "add", name: `${last}.hook_resid_post`, vector: vector(cfg.d_model), scale: 0.1 },
  ];
  if (cfg.positional_embedding_type === "standard") {
    out.push({ kind: "resample", name: "hook_pos_embed", seed: 1 });
  }
  if (!cfg.attn_only) {
    out.push({ kind: "mean", name: `${last}.mlp.hook_post`, pos: 2 });
    out.push({ kind: "zero", name: `${last}.mlp.hook_pre`, pos: 0 });
    out.push({ kind: "resample", name: `${last}.hook_resid_mid`, seed: 5 });
    out.push({ kind: "zero", name: "blocks.0.hook_mlp_out", rows: [0, 2] });
  }
  if (cfg.normalization_type !== null) {
    out.push({ kind: "zero", name: "ln_final.hook_normalized", pos: 0 });
    out.push({ kind: "mean", name: "blocks.0.ln1.hook_scale" });
  }
  return out;
}

/** `runWithGrads` of both runners from the same random `dlogits`: logits, cache and gradients. */
async function expectSameGrads(
  [got, want]: [HookedRunner, HookedRunner],
  cfg: ModelConfig,
  call: { tokens: Int32Array; batch: number; rng: Rng },
): Promise<void> {
  const { tokens, batch, rng } = call;
  const T = tokens.length / batch;
  const points = hookPoints(cfg, batch, T);
  const grads = points.filter((p) => {
    try {
      return gradHookPoint(points, p.name) !== undefined;
    } catch {
      return false;
    }
  }).map((p) => p.name);
  const names = points.filter((p) => !p.name.endsWith("hook_result")).map((p) => p.name);
  const U = cfg.d_vocab_out;
  const dlogits = new Tensor(Float64Array.from({ length: batch * U }, () => rng.normal()), [
    batch,
    U,
  ]);
  const a = await got.runWithGrads(tokens, batch, dlogits, { names, grads });
  const b = await want.runWithGrads(tokens, batch, dlogits, { names, grads });
  expectSameRun(a, b, `runWithGrads B ${batch}`);
  const tol = 3e-6 * largest(b.grads.values());
  assert.deepEqual([...a.grads.keys()].sort(), [...grads].sort());
  let worst = 0;
  for (const n of grads) {
    worst = Math.max(worst, expectNear(a.grads.get(n)!, b.grads.get(n)!, tol, `grad ${n}`));
  }
  console.log(
    `  gradients: max |diff| ${worst.toExponential(2)} (tolerance ${tol.toExponential(1)})`,
  );
}

for (const [label, overrides] of CONFIGS) {
  Deno.test(`f32 runner vs float64 runner (${label}): every hook, each edit, the gradients`, async () => {
    const cfg: ModelConfig = { ...TINY, n_ctx: 5, ...overrides };
    const rng = new Rng(31);
    const weights = randomWeights(cfg, rng);
    const [f32, cpu] = [f32Runner(cfg, weights), cpuRunner(cfg, weights)];
    const tokensOf = (B: number, T: number) =>
      Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab));
    for (const [B, T] of [[4, 5], [1, 5], [3, 2]] as const) {
      const tokens = tokensOf(B, T);
      const names = hookPoints(cfg, B, T).map((p) => p.name);
      const got = await f32.runWithCache(tokens, B, { names });
      expectSameRun(got, await cpu.runWithCache(tokens, B, { names }), `B ${B}, T ${T}`);
      // Hooks only read (hook_result changes how hook_attn_out is summed) leave the pass as it
      // is without any: the trainer's, bit for bit.
      const bare = await f32.runWithCache(tokens, B);
      assert.equal(bare.cache.size, 0);
      const read = names.filter((n) => !n.endsWith("hook_result"));
      const hooked = await f32.runWithCache(tokens, B, { names: read });
      assert.deepEqual(bare.logits.data, hooked.logits.data, "the logits without hooks");
    }
    const B = 6;
    const tokens = tokensOf(B, cfg.n_ctx);
    const last = `blocks.${cfg.n_layers - 1}.hook_resid_pre`;
    const other = await cpu.runWithCache(tokensOf(3, cfg.n_ctx), 3, { names: [last] });
    const names = hookPoints(cfg, B, cfg.n_ctx).map((p) => p.name);
    for (const iv of edits(cfg, other.cache.get(last)!, B)) {
      const got = await f32.runWithHooks(tokens, B, [iv], { names });
      expectSameRun(
        got,
        await cpu.runWithHooks(tokens, B, [iv], { names }),
        `${iv.kind} ${iv.name}`,
      );
    }
    await expectSameGrads([f32, cpu], cfg, { tokens, batch: B, rng });
    await expectSameGrads([f32, cpu], cfg, { tokens: tokensOf(2, 3), batch: 2, rng });
  });
}

Deno.test("f32 runner: bad calls are one-line errors", async () => {
  const cfg: ModelConfig = { ...TINY, positional_embedding_type: "shortformer" };
  const runner = f32Runner(cfg, randomWeights(cfg, new Rng(1)));
  const tokens = new Int32Array([1, 2, 3]);
  await assert.rejects(
    runner.runWithHooks(tokens, 1, [{ kind: "zero", name: "hook_pos_embed" }]),
    /^RangeError: f32 runner: a shortformer's positions reach q and k from W_pos, not hook_pos_embed; edit blocks\.L\.attn\.hook_q\|k or use cpuRunner$/,
  );
  await assert.rejects(
    runner.runWithCache(tokens, 1, { names: ["blocks.0.hook_z"] }),
    /^Error: unknown hook blocks\.0\.hook_z; closest: blocks\.0\.attn\.hook_z/,
  );
  await assert.rejects(runner.runWithCache(new Int32Array([1, 99, 2]), 1), /tokens\[1\] = 99/);
  await assert.rejects(
    runner.runWithGrads(tokens, 1, new Tensor(new Float64Array(3), [1, 3]), { grads: [] }),
    /^RangeError: dlogits: shape \[1,3\], expected \[1, 9\]$/,
  );
  await assert.rejects(
    runner.runWithGrads(tokens, 1, new Tensor(new Float64Array(9), [1, 9]), {
      grads: ["blocks.0.attn.hook_q"],
    }),
    /^Error: no gradient of blocks\.0\.attn\.hook_q/,
  );
});

/**
 * Both runners on `run`'s last checkpoint: every hook of `clean`, then activation patching and
 * attribution patching from `corrupt` to `clean` with answers `good` and `bad`.
 */
async function expectSamePatching(
  path: string,
  seqs: { clean: Int32Array; corrupt: Int32Array; good: number; bad: number },
): Promise<void> {
  const run = await openAnalysisRun(path);
  const cfg = run.config.model;
  const weights = await checkpointWeights(run, run.checkpoints.at(-1)!.step);
  const [f32, cpu] = [f32Runner(cfg, weights), cpuRunner(cfg, weights)];
  const { clean, corrupt, good, bad } = seqs;
  const names = hookPoints(cfg, 1, clean.length).map((p) => p.name);
  const got = await f32.runWithCache(clean, 1, { names });
  expectSameRun(got, await cpu.runWithCache(clean, 1, { names }), "clean");
  const metric = logitDiffMetric(Int32Array.of(good), Int32Array.of(bad));
  const inputs = { clean, corrupt, batch: 1, metric };
  const [a, b] = [await patchingSweep(f32, cfg, inputs), await patchingSweep(cpu, cfg, inputs)];
  const [c, d] = [
    await attributionSweep(f32, cfg, { clean, corrupt, good, bad }),
    await attributionSweep(cpu, cfg, { clean, corrupt, good, bad }),
  ];
  const flat = (
    s: { clean: number; corrupt: number; resid_pre: number[][]; head_out: number[][] },
  ) =>
    new Tensor(
      Float64Array.from([s.clean, s.corrupt, ...s.resid_pre.flat(), ...s.head_out.flat()]),
      [
        2 + s.resid_pre.flat().length + s.head_out.flat().length,
      ],
    );
  const tol = 1e-5 * largest([flat(b), flat(d)]);
  console.log(
    `  patching: max |diff| ${expectNear(flat(a), flat(b), tol, "patching").toExponential(2)}`,
  );
  expectNear(
    new Tensor(Float64Array.from(a.mlp_out.flat()), [a.mlp_out.flat().length]),
    new Tensor(Float64Array.from(b.mlp_out.flat()), [b.mlp_out.flat().length]),
    tol,
    "patching mlp_out",
  );
  console.log(
    `  attribution: max |diff| ${
      expectNear(flat(c), flat(d), tol, "attribution").toExponential(2)
    }`,
  );
}

Deno.test("f32 runner vs float64 runner on the imported tiny GPT-2: hooks, patching, attribution", async () => {
  await withTempDir(async (dir) => {
    const path = await importTinyGpt2(`${dir}/runs`);
    // " When Mary and John went to the store, John gave a drink to" and the same with Mary
    const clean = Int32Array.of(1649, 5335, 290, 1757, 1816, 284, 262, 3650, 11, 1757, 2921, 257);
    const corrupt = Int32Array.of(1649, 5335, 290, 1757, 1816, 284, 262, 3650, 11, 5335, 2921, 257);
    await expectSamePatching(path, { clean, corrupt, good: 5335, bad: 1757 });
  });
});

Deno.test("f32 runner vs float64 runner on a trained induction run: hooks, patching, attribution", async () => {
  await withTempDir(async (dir) => {
    const train = await mechlab(
      ...["train", "--preset=induction", "--device=cpu", "--steps=40", "--checkpoint-every=40"],
      ...["--eval-every=40", "--n-seqs=200", `--out=${dir}`, "--name=r"],
    );
    assert.equal(train.code, 0, train.err);
    const run = await openAnalysisRun(`${dir}/r`);
    const T = run.task.n_ctx;
    const clean = run.task.tokens.slice(0, T);
    const corrupt = run.task.tokens.slice(T, 2 * T);
    await expectSamePatching(`${dir}/r`, { clean, corrupt, good: 0, bad: 1 });
  });
});
