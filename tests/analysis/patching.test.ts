// The batched patching sweep against one patch at a time (float64, CPU), chunked and unchunked,
// the GPU sweep against the CPU sweep, clean patched into clean (the clean value everywhere), and
// the logit-difference metric by hand.
import * as assert from "node:assert/strict";
import {
  logitDiffMetric,
  type PatchingSweep,
  patchingSweep,
} from "../../engine/analysis/patching.ts";
import { cpuRunner, gpuRunner, type HookedRunner } from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { Rng, tensor } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { randomTokens, randomWeights, TINY } from "../hooks/hooks_helpers.ts";

const CONFIGS: [string, ModelConfig][] = [
  ["2 layers, LN", { ...TINY, n_layers: 2, normalization_type: "LN" }],
  ["attention-only", { ...TINY, attn_only: true }],
];
const N = 5;

/** Clean and corrupt examples (the corrupt ones differ in one token), and a logit-diff metric. */
function setup(cfg: ModelConfig, seed: number) {
  const rng = new Rng(seed);
  const weights = randomWeights(cfg, rng);
  const clean = randomTokens(cfg, N, rng);
  const corrupt = Int32Array.from(clean, (t, i) => i % cfg.n_ctx === 1 ? (t + 1) % cfg.d_vocab : t);
  const good = Int32Array.from({ length: N }, () => rng.int(cfg.d_vocab_out));
  const bad = Int32Array.from(good, (g) => (g + 1) % cfg.d_vocab_out);
  return { weights, clean, corrupt, metric: logitDiffMetric(good, bad) };
}

/** Each entry of the sweep computed alone: one runWithHooks per patch. */
async function oneAtATime(runner: HookedRunner, cfg: ModelConfig, s: ReturnType<typeof setup>) {
  const mean = (x: Float64Array) => x.reduce((a, b) => a + b, 0) / x.length;
  const names = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    names.push(`blocks.${l}.hook_resid_pre`, `blocks.${l}.attn.hook_z`);
    if (!cfg.attn_only) names.push(`blocks.${l}.hook_mlp_out`);
  }
  const cleanRun = await runner.runWithCache(s.clean, N, { names });
  const score = async (name: string, where: { pos?: number; head?: number }) => {
    const source = cleanRun.cache.get(name)!;
    const { logits } = await runner.runWithHooks(s.corrupt, N, [{
      kind: "patch",
      name,
      source,
      ...where,
    }]);
    return mean(s.metric(logits));
  };
  const out: PatchingSweep = {
    clean: mean(s.metric(cleanRun.logits)),
    corrupt: mean(s.metric((await runner.runWithCache(s.corrupt, N)).logits)),
    resid_pre: [],
    head_out: [],
    mlp_out: [],
  };
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    const [resid, heads, mlp] = [[], [], []] as [number[], number[], number[]];
    for (let p = 0; p < cfg.n_ctx; p++) resid.push(await score(`${b}.hook_resid_pre`, { pos: p }));
    for (let h = 0; h < cfg.n_heads; h++) heads.push(await score(`${b}.attn.hook_z`, { head: h }));
    if (!cfg.attn_only) {
      for (let p = 0; p < cfg.n_ctx; p++) mlp.push(await score(`${b}.hook_mlp_out`, { pos: p }));
    }
    out.resid_pre.push(resid);
    out.head_out.push(heads);
    out.mlp_out.push(mlp);
  }
  return out;
}

/** Asserts two sweeps agree within `tol`, entry by entry, and prints the max difference. */
function expectSweepsClose(got: PatchingSweep, want: PatchingSweep, tol: number, what: string) {
  const flat = (
    s: PatchingSweep,
  ) => [s.clean, s.corrupt, ...[s.resid_pre, s.head_out, s.mlp_out].flat(2)];
  assert.deepEqual(got.mlp_out.map((r) => r.length), want.mlp_out.map((r) => r.length), what);
  assert.deepEqual(got.resid_pre.map((r) => r.length), want.resid_pre.map((r) => r.length), what);
  assert.deepEqual(got.head_out.map((r) => r.length), want.head_out.map((r) => r.length), what);
  const [a, b] = [flat(got), flat(want)];
  const diff = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
  console.log(`  ${what}: max |diff| ${diff.toExponential(2)} (tolerance ${tol.toExponential(0)})`);
  assertClose(a, b, tol, what);
}

for (const [label, cfg] of CONFIGS) {
  Deno.test(`patching sweep (${label}): batched equals one patch at a time, chunked or not`, async () => {
    const s = setup(cfg, 1);
    const runner = cpuRunner(cfg, s.weights);
    const want = await oneAtATime(runner, cfg, s);
    // the patches change something: a sweep of constants would pass the comparisons below
    assert.ok(Math.abs(want.clean - want.corrupt) > 1e-3, "clean and corrupt differ");
    for (const maxRows of [undefined, 2 * N + 1, 3]) {
      const got = await patchingSweep(runner, cfg, {
        ...s,
        batch: N,
        ...(maxRows ? { maxRows } : {}),
      });
      expectSweepsClose(got, want, 1e-12, `maxRows ${maxRows ?? "default"}`);
      const L = cfg.n_layers;
      assert.deepEqual(got.resid_pre.map((r) => r.length), Array(L).fill(cfg.n_ctx));
      assert.deepEqual(got.head_out.map((r) => r.length), Array(L).fill(cfg.n_heads));
      assert.deepEqual(got.mlp_out.map((r) => r.length), Array(L).fill(cfg.attn_only ? 0 : 3));
    }
  });

  Deno.test(`patching sweep (${label}): clean into clean gives the clean value everywhere`, async () => {
    const s = setup(cfg, 2);
    const sweep = await patchingSweep(cpuRunner(cfg, s.weights), cfg, {
      ...s,
      corrupt: s.clean,
      batch: N,
    });
    const all = [sweep.corrupt, ...[sweep.resid_pre, sweep.head_out, sweep.mlp_out].flat(2)];
    assertClose(all, all.map(() => sweep.clean), 1e-12, "every entry");
  });

  gpuTest(`patching sweep (${label}): the GPU sweep equals the CPU sweep`, async (gpu) => {
    const s = setup(cfg, 3);
    const want = await patchingSweep(cpuRunner(cfg, s.weights), cfg, { ...s, batch: N });
    const runner = await gpuRunner(gpu, cfg, s.weights, { maxBatch: 16 }); // 3 variants (15 rows) a call
    const got = await patchingSweep(runner, cfg, { ...s, batch: N });
    // logit differences of logits of size ~1-10, in f32 through 1-2 layers: a few ulps of the
    // largest (a wrong patch moves an entry by O(0.1), the gap between clean and corrupt)
    expectSweepsClose(got, want, 2e-5, "gpu vs cpu");
    runner.release();
  });
}

Deno.test("logitDiffMetric: the good answer's logit minus the bad one's, per row", () => {
  const metric = logitDiffMetric(new Int32Array([2, 0]), new Int32Array([0, 1]));
  assert.deepEqual([...metric(tensor([1, 5, 4, 3, 7, 0], [2, 3]))], [3, -4]);
  assert.throws(() => metric(tensor([1, 2, 3], [1, 3])), /logits \[1,3\], expected \[2, U\]/);
});
