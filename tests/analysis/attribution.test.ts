// Attribution patching against independent checks, float64 on the CPU: each activation gradient
// of `runWithGrads` against a central finite difference of the metric along a random direction
// (the activation replaced by a ± εv through a `patch` hook); attribution of head outputs equal to
// real patching where the metric is linear in them (one attention-only layer, no LayerNorm); and
// attribution against real patching on a LayerNorm model when the corruption is small (a token
// whose embedding is the clean one's plus a small step) and when it is not. The GPU runner's
// gradients (the training backward's kernels), and a whole attribution sweep on the GPU, against
// the CPU's.
import * as assert from "node:assert/strict";
import { attributionSweep, pearson } from "../../engine/analysis/attribution.ts";
import { logitDiffMetric, patchingSweep } from "../../engine/analysis/patching.ts";
import { cpuRunner, gpuRunner } from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { add, mul, Rng, Tensor, tensor } from "../../engine/tensor/mod.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { randomWeights, TINY } from "../hooks/hooks_helpers.ts";

const LN2: ModelConfig = { ...TINY, n_layers: 2, n_ctx: 6, normalization_type: "LN" };
const ATTN1: ModelConfig = { ...TINY, n_ctx: 6, attn_only: true, normalization_type: null };

/** Every hook with a gradient in `cfg`. */
function gradNames(cfg: ModelConfig): string[] {
  return Array.from({ length: cfg.n_layers }, (_, l) => {
    const b = `blocks.${l}`;
    const mlp = cfg.attn_only ? [] : [`${b}.hook_mlp_out`, `${b}.hook_resid_mid`];
    return [
      `${b}.hook_resid_pre`,
      `${b}.attn.hook_z`,
      `${b}.hook_attn_out`,
      ...mlp,
      `${b}.hook_resid_post`,
    ];
  }).flat();
}

Deno.test("runWithGrads (CPU): each hook's gradient is the metric's finite difference", async () => {
  for (const cfg of [LN2, ATTN1]) {
    const rng = new Rng(1);
    const runner = cpuRunner(cfg, randomWeights(cfg, rng));
    const tokens = Int32Array.from({ length: cfg.n_ctx }, () => rng.int(cfg.d_vocab));
    const [good, bad] = [2, 5];
    const dlogits = new Float64Array(cfg.d_vocab_out);
    [dlogits[good], dlogits[bad]] = [1, -1];
    const names = gradNames(cfg);
    const run = await runner.runWithGrads(tokens, 1, new Tensor(dlogits, [1, cfg.d_vocab_out]), {
      names,
      grads: names,
    });
    const metric = logitDiffMetric(Int32Array.of(good), Int32Array.of(bad));
    for (const name of names) {
      const a = run.cache.get(name)!;
      const g = run.grads.get(name)!;
      assert.deepEqual(g.shape, a.shape, name);
      const v = new Tensor(Float64Array.from(a.data, () => rng.normal()), a.shape);
      const eps = 1e-5;
      const at = async (sign: number) => {
        const source = add(a, mul(v, sign * eps));
        const r = await runner.runWithHooks(tokens, 1, [{ kind: "patch", name, source }]);
        return metric(r.logits)[0]!;
      };
      const fd = (await at(1) - await at(-1)) / (2 * eps);
      const analytic = Array.from(g.data).reduce((s, x, i) => s + x * v.data[i]!, 0);
      // central difference: O(ε²) truncation plus 1e-16 / ε rounding, on values of order 1-10
      assert.ok(
        Math.abs(fd - analytic) <= 1e-7 * Math.max(1, Math.abs(analytic)),
        `${name}: finite difference ${fd}, gradient ${analytic}`,
      );
    }
  }
});

/** Clean tokens, and the same with position `pos` set to `token`. */
function pair(cfg: ModelConfig, rng: Rng, pos: number, token: number) {
  const clean = Int32Array.from({ length: cfg.n_ctx }, () => rng.int(cfg.d_vocab - 1));
  const corrupt = clean.slice();
  corrupt[pos] = token;
  return { clean, corrupt };
}

/** Real patching (restored minus corrupt) and attribution, flattened over both sweeps. */
async function both(cfg: ModelConfig, weights: Map<string, Tensor>, s: ReturnType<typeof pair>) {
  const runner = cpuRunner(cfg, weights);
  const [good, bad] = [1, 4];
  const real = await patchingSweep(runner, cfg, {
    ...s,
    batch: 1,
    metric: logitDiffMetric(Int32Array.of(good), Int32Array.of(bad)),
  });
  const attr = await attributionSweep(runner, cfg, { ...s, good, bad });
  assert.ok(
    Math.abs(attr.clean - real.clean) < 1e-9 && Math.abs(attr.corrupt - real.corrupt) < 1e-9,
  );
  const delta = (rows: number[][]) => rows.flat().map((v) => v - real.corrupt);
  return {
    real: { resid: delta(real.resid_pre), heads: delta(real.head_out) },
    attr: { resid: attr.resid_pre.flat(), heads: attr.head_out.flat() },
  };
}

Deno.test("attribution equals patching where the metric is linear (one attention-only layer)", async () => {
  const rng = new Rng(2);
  const weights = randomWeights(ATTN1, rng);
  const r = await both(ATTN1, weights, pair(ATTN1, rng, 2, ATTN1.d_vocab - 1));
  // logits = (resid + Σ_h z_h·W_O[h] + b_O)·W_U + b_U: patching a head's z moves the metric by
  // exactly (z_clean − z_corrupt)·gradient
  r.attr.heads.forEach((a, i) => assert.ok(Math.abs(a - r.real.heads[i]!) < 1e-10, `head ${i}`));
  // resid_pre at a position the two share: 0 on both sides
  assert.equal(r.attr.resid[0], 0);
  assert.equal(r.real.resid[0], 0);
});

Deno.test("attribution tracks patching closely for a small corruption, less for a large one", async () => {
  const rng = new Rng(3);
  const weights = randomWeights(LN2, rng);
  const s = pair(LN2, rng, 3, LN2.d_vocab - 1);
  // The corrupting token: the clean one's embedding plus a small step, 0.01 per dimension (about
  // 2% of its norm: the weights are of order 0.5).
  const W_E = weights.get("embed.W_E")!;
  const D = LN2.d_model;
  const near = new Float64Array(W_E.data);
  const [from, to] = [s.clean[3]! * D, (LN2.d_vocab - 1) * D];
  for (let d = 0; d < D; d++) near[to + d] = near[from + d]! + 0.01 * rng.normal();
  const small = await both(
    LN2,
    new Map([...weights, ["embed.W_E", new Tensor(near, W_E.shape)]]),
    s,
  );
  const large = await both(LN2, weights, s);
  const r = (x: typeof small) => ({
    resid: pearson(x.real.resid, x.attr.resid),
    heads: pearson(x.real.heads, x.attr.heads),
  });
  const [rs, rl] = [r(small), r(large)];
  console.log(
    `correlation, small corruption: resid ${rs.resid.toFixed(4)}, heads ${rs.heads.toFixed(4)}`,
  );
  console.log(
    `correlation, random token:     resid ${rl.resid.toFixed(4)}, heads ${rl.heads.toFixed(4)}`,
  );
  assert.ok(rs.resid > 0.99 && rs.heads > 0.99, JSON.stringify(rs));
  assert.ok(rl.resid < rs.resid, "a large corruption is approximated less well");
});

Deno.test("pearson: hand-worked values", () => {
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 7]) - 0.9933992677987828) < 1e-15);
  assert.equal(pearson([1, 2, 3], [3, 2, 1]), -1);
  assert.ok(Number.isNaN(pearson([1, 1], [2, 3])));
  assert.equal(pearson([1, NaN, 2, 3], [1, 5, 2, 3]), 1);
});

gpuTest(
  "runWithGrads (GPU): the training backward's gradients and attribution equal the CPU's",
  async (gpu) => {
    for (const cfg of [LN2, ATTN1]) {
      const rng = new Rng(4);
      const weights = randomWeights(cfg, rng);
      const T = cfg === LN2 ? cfg.n_ctx : cfg.n_ctx - 2; // full rows, and shorter ones (padded)
      const tokens = Int32Array.from({ length: 3 * T }, () => rng.int(cfg.d_vocab));
      const U = cfg.d_vocab_out;
      const dlogits = new Tensor(Float64Array.from({ length: 3 * U }, () => rng.normal()), [3, U]);
      const names = gradNames(cfg);
      const want = await cpuRunner(cfg, weights).runWithGrads(tokens, 3, dlogits, {
        names,
        grads: names,
      });
      const runner = await gpuRunner(gpu, cfg, weights);
      const got = await runner.runWithGrads(tokens, 3, dlogits, { names, grads: names });
      const close = (a: Tensor, b: Tensor, what: string) => {
        assert.deepEqual(a.shape, b.shape, what);
        const scale = Math.max(...Array.from(b.data, Math.abs), 1);
        const diff = Math.max(...Array.from(a.data, (x, i) => Math.abs(x - b.data[i]!)));
        // f32 through two layers of values of order 1-10: a few ulps of the largest
        assert.ok(diff <= 2e-5 * scale, `${what}: max difference ${diff} of ${scale}`);
      };
      close(got.logits, want.logits, "logits");
      for (const n of names) {
        close(got.cache.get(n)!, want.cache.get(n)!, n);
        close(got.grads.get(n)!, want.grads.get(n)!, `∂/∂${n}`);
      }
      // The whole sweep on the GPU path against the CPU's.
      const s = pair(cfg, rng, 2, cfg.d_vocab - 1);
      const input = { ...s, good: 1, bad: 4 };
      const a = await attributionSweep(runner, cfg, input);
      const b = await attributionSweep(cpuRunner(cfg, weights), cfg, input);
      for (const k of ["resid_pre", "head_out"] as const) {
        close(tensor(a[k].flat()), tensor(b[k].flat()), `attribution ${k}`);
      }
      runner.release();
    }
  },
);
