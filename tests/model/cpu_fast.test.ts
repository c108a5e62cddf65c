// The f32 CPU model (engine/model/cpu_fast/) against the float64 reference (cpu_forward.ts,
// cpu_model.ts): loss, logits at every position and every gradient, on tiny configs with LayerNorm
// on and off, each act_fn, attention-only, both trainable_biases settings, the shortformer
// positional embedding, IGNORE targets, uneven row weights, a T longer than the attention tile, and T = 1,024. Weights and biases are all
// non-zero so every term shows.
//
// fastEval (loss and argmax at every position) is held to the float64 logits too.
//
// Tolerance (f32 against f64): loss within 1e-5 relative; logits within 2e-5 of the reference; each
// weight's gradient within 1e-4 · max|reference gradient of that weight| + 2e-6 elementwise (the
// floor is for b_K, whose exact gradient is 0: it adds the same q·b_K to every score of a query,
// so its f32 value is rounding noise, about 1e-7 here and up to 1.1e-6 in the shortformer case,
// whose keys also carry the positions).
import * as assert from "node:assert/strict";
import { IGNORE } from "../../engine/data/task.ts";
import { DEFAULT_MODEL, type ModelConfig } from "../../engine/model/config.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { cpuLossAndGrads } from "../../engine/model/cpu_model.ts";
import {
  cpuFastLossAndGrads,
  CpuWorkers,
  type FastBatch,
  fastEval,
  fastLossAndGrads,
} from "../../engine/model/cpu_fast/mod.ts";
import { crossEntropyEval } from "../../engine/reference/cross_entropy.ts";
import { paramLayout, unflatten } from "../../engine/model/params.ts";
import { Rng, Tensor } from "../../engine/tensor/mod.ts";

const SMALL: ModelConfig = {
  ...DEFAULT_MODEL,
  n_layers: 2,
  d_model: 8,
  d_head: 4,
  n_heads: 2,
  d_mlp: 12,
  d_vocab: 7,
  d_vocab_out: 6,
  n_ctx: 6,
  normalization_type: "LN",
  act_fn: "gelu",
  trainable_biases: "all",
  initializer_range: 0.5,
};

/** Every weight from normal(0, 0.5), LayerNorm weights around 1; padding 0. */
function randomParams(cfg: ModelConfig, rng: Rng): Float32Array {
  const layout = paramLayout(cfg);
  const flat = new Float32Array(layout.size);
  for (const spec of layout.specs) {
    const one = spec.init === "ones" ? 1 : 0;
    for (let i = 0; i < spec.size; i++) flat[spec.offset + i] = one + 0.5 * rng.normal();
  }
  return flat;
}

/**
 * The float64 reference's loss `Σ_{r,t scored} w_r · CE(r, t)` and gradients. Today's
 * `cpuLossAndGrads` scores each row's last position; the model is causal, so the loss at position
 * t is the last-position loss of the rows cut to t + 1 tokens, and the sum over t is exact.
 * (Once item 1 lands, this is one call with `targets [B, T]`.)
 */
function reference(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  data: { tokens: Int32Array; targets: Int32Array; rowWeights: Float64Array; batch: number },
): { loss: number; grads: Map<string, Float64Array> } {
  const { tokens, targets, rowWeights, batch } = data;
  const { loss, grads } = cpuLossAndGrads(cfg, weights, tokens, targets, rowWeights, batch);
  return { loss, grads: new Map([...grads].map(([name, g]) => [name, g.data as Float64Array])) };
}

/** Runs both models on random data for `cfg` and compares; returns the worst gradient gap / max|grad|. */
type Run = (
  cfg: ModelConfig,
  params: Float32Array,
  data: FastBatch,
) => Promise<{ loss: number; grads: Float32Array; logits?: Float32Array }>;

/** The one-thread model. */
const oneThread: Run = (cfg, params, data) =>
  Promise.resolve(fastLossAndGrads(cfg, paramLayout(cfg), params, data));

async function compare(
  cfg: ModelConfig,
  options: { batch: number; seed: number; T?: number; run?: Run; lastOnly?: boolean },
): Promise<number> {
  const rng = new Rng(options.seed);
  const layout = paramLayout(cfg);
  const params = randomParams(cfg, rng);
  const B = options.batch;
  const T = options.T ?? cfg.n_ctx;
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab));
  // About a third of the positions unscored; row 0 scores every position (or, with `lastOnly`,
  // every row its last position only: one call of the reference).
  const targets = Int32Array.from(
    { length: B * T },
    (_, n) =>
      (options.lastOnly ? n % T !== T - 1 : n >= T && rng.uniform() < 0.35)
        ? IGNORE
        : rng.int(cfg.d_vocab_out),
  );
  const rowWeights = Float64Array.from({ length: B }, (_, r) => (r + 1) / (B * T));
  const data = { tokens, targets, rowWeights, batch: B };

  const fast = await (options.run ?? oneThread)(cfg, params, data);
  const weights = unflatten(layout, params);
  const ref = reference(cfg, weights, data);
  const refLogits = cpuForward(cfg, weights, tokens, B).logits.data;

  assert.ok(
    Math.abs(fast.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss),
    `loss ${fast.loss} vs ${ref.loss}`,
  );
  if (fast.logits !== undefined) {
    let logitGap = 0;
    for (let i = 0; i < refLogits.length; i++) {
      logitGap = Math.max(logitGap, Math.abs(fast.logits[i]! - refLogits[i]!));
    }
    assert.ok(logitGap <= 2e-5, `logits: max |diff| ${logitGap}`);
  }
  let worst = 0;
  for (const spec of layout.specs) {
    const want = ref.grads.get(spec.name)!;
    const got = fast.grads.subarray(spec.offset, spec.offset + spec.size);
    const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    let gap = 0;
    for (let i = 0; i < spec.size; i++) gap = Math.max(gap, Math.abs(got[i]! - want[i]!));
    assert.ok(gap <= 1e-4 * scale + 2e-6, `${spec.name}: max |diff| ${gap}, max |ref| ${scale}`);
    if (!spec.trainable) assert.ok(got.every((g) => g === 0), `${spec.name} does not train`);
    if (scale > 1e-6) worst = Math.max(worst, gap / scale); // b_K's gradient is exactly 0
  }
  return worst;
}

Deno.test("cpu_fast: LayerNorm, GELU, every bias trains, IGNORE targets, uneven row weights", async () => {
  const worst = await compare(SMALL, { batch: 3, seed: 1 });
  console.log(`  worst gradient gap / max|grad|: ${worst.toExponential(2)}`);
});

Deno.test("cpu_fast: no LayerNorm, ReLU, MLP biases only (the grokking model), short rows", async () => {
  await compare({ ...SMALL, normalization_type: null, act_fn: "relu", trainable_biases: "mlp" }, {
    batch: 2,
    seed: 2,
    T: 4,
  });
});

Deno.test("cpu_fast: attention-only with LayerNorm and gelu_new, one layer", async () => {
  await compare({ ...SMALL, attn_only: true, n_layers: 1, act_fn: "gelu_new" }, {
    batch: 2,
    seed: 3,
  });
  await compare({ ...SMALL, act_fn: "gelu_new", n_layers: 1 }, { batch: 2, seed: 4 });
});

Deno.test("cpu_fast: shortformer positions, attention-only and with MLPs, short rows", async () => {
  const shortformer = { ...SMALL, positional_embedding_type: "shortformer" as const };
  await compare({ ...shortformer, attn_only: true }, { batch: 3, seed: 11 });
  await compare({ ...shortformer, normalization_type: null, act_fn: "relu" }, {
    batch: 2,
    seed: 12,
    T: 4,
  });
});

Deno.test("cpu_fast: T = 70, past the 64-query attention tile", async () => {
  const cfg = { ...SMALL, n_layers: 1, d_model: 4, d_head: 2, d_mlp: 4, n_ctx: 70 };
  await compare(cfg, { batch: 2, seed: 5 });
});

Deno.test("cpu_fast: T = 1,024, sixteen attention tiles, scored at the last position", async () => {
  const cfg = { ...SMALL, n_layers: 1, d_model: 4, n_heads: 2, d_head: 2, d_mlp: 4, n_ctx: 1024 };
  await compare(cfg, { batch: 1, seed: 10, lastOnly: true });
});

Deno.test("cpu_fast: two workers, each a shard of 5 rows, sum to the reference, the same bits each time", async () => {
  const pool = new CpuWorkers(2);
  try {
    await compare(SMALL, {
      batch: 5,
      seed: 6,
      run: (cfg, params, data) => pool.lossAndGrads(cfg, params, data),
    });
    // The same bits every time: shards summed in worker order.
    const layout = paramLayout(SMALL);
    const params = randomParams(SMALL, new Rng(8));
    const data = {
      tokens: Int32Array.from({ length: 5 * 6 }, (_, i) => i % 7),
      targets: Int32Array.from({ length: 5 * 6 }, (_, i) => (i * 5) % 6),
      rowWeights: new Float64Array(5).fill(0.2),
      batch: 5,
    };
    const [a, b] = [
      await pool.lossAndGrads(SMALL, params, data),
      await pool.lossAndGrads(SMALL, params, data),
    ];
    assert.equal(a.loss, b.loss);
    assert.deepEqual(a.grads, b.grads);
    assert.equal(a.grads.length, layout.size);
    const bad = {
      tokens: new Int32Array(2).fill(99),
      targets: new Int32Array(2),
      rowWeights: new Float64Array(2),
      batch: 2,
    };
    await assert.rejects(
      () => pool.lossAndGrads(SMALL, new Float32Array(paramLayout(SMALL).size), bad),
      /tokens\[0\] = 99 is outside \[0, d_vocab 7\)/,
    );
  } finally {
    pool.close();
  }
});

Deno.test("cpu_fast: cpuFastLossAndGrads names the gradients and shapes the logits as cpuLossAndGrads", () => {
  const cfg = { ...SMALL, n_layers: 1 };
  const layout = paramLayout(cfg);
  const params = randomParams(cfg, new Rng(7));
  const tokens = new Int32Array([1, 2, 3, 4, 5, 6, 0, 1]);
  const targets = new Int32Array([2, 3, IGNORE, 5, 0, 1, 2, IGNORE]);
  const rowWeights = new Float64Array([0.25, 0.25]);
  const flat = fastLossAndGrads(cfg, layout, params, { tokens, targets, rowWeights, batch: 2 });
  const named = cpuFastLossAndGrads(cfg, unflatten(layout, params), tokens, targets, rowWeights, 2);
  assert.equal(named.loss, flat.loss);
  assert.deepEqual(named.logits.shape, [2, 4, cfg.d_vocab_out]);
  for (const spec of layout.specs) {
    const g = named.grads.get(spec.name)!;
    assert.deepEqual(g.shape, spec.shape, spec.name);
    assert.deepEqual(
      Float32Array.from(g.data),
      flat.grads.subarray(spec.offset, spec.offset + spec.size),
    );
  }
});

Deno.test("cpu_fast: bad inputs are refused in one line", () => {
  const layout = paramLayout(SMALL);
  const params = new Float32Array(layout.size);
  const tokens = new Int32Array(6);
  const base = { tokens, targets: new Int32Array(6), rowWeights: new Float64Array(1), batch: 1 };
  assert.throws(
    () => fastLossAndGrads(SMALL, layout, params, { ...base, targets: new Int32Array(6).fill(6) }),
    /targets\[0\] = 6 is neither IGNORE \(-1\) nor in \[0, d_vocab_out 6\)/,
  );
  assert.throws(
    () => fastLossAndGrads(SMALL, layout, params, { ...base, targets: new Int32Array(5) }),
    /targets: length 5, expected batch × pos 6/,
  );
  assert.throws(
    () => fastLossAndGrads(SMALL, layout, params, { ...base, rowWeights: new Float64Array(2) }),
    /rowWeights: length 2, expected batch 1/,
  );
});

Deno.test("cpu_fast: fastEval's loss and argmax at every position against the float64 logits", async () => {
  const cfg = { ...SMALL, d_vocab_out: 7 };
  const layout = paramLayout(cfg);
  const rng = new Rng(9);
  const params = randomParams(cfg, rng);
  const [B, T] = [7, cfg.n_ctx];
  const tokens = Int32Array.from({ length: B * T }, () => rng.int(cfg.d_vocab));
  const targets = Int32Array.from({ length: B * T }, (_, n) => n % 4 === 1 ? IGNORE : rng.int(7));
  const data = { tokens, targets, batch: B };
  const logits = cpuForward(cfg, unflatten(layout, params), tokens, B).logits;
  const ref = crossEntropyEval(logits.reshape([B * T, 7]), new Tensor(targets, [B * T]));
  const whole = fastEval(cfg, layout, params, data);
  for (let n = 0; n < B * T; n++) {
    assert.ok(Math.abs(whole.loss[n]! - ref.loss.data[n]!) <= 2e-5, `loss at ${n}`);
    assert.equal(whole.correct[n], ref.correct.data[n], `correct at ${n}`);
    if (targets[n] === IGNORE) assert.ok(whole.loss[n] === 0 && whole.correct[n] === 0);
  }
  assert.ok(whole.correct.some((c) => c === 1), "some argmax hits");
  // Chunks of 2 rows and a pool of two workers: the same bits, since no product mixes rows.
  assert.deepEqual(fastEval(cfg, layout, params, data, { chunkTokens: 2 * T }), whole);
  const pool = new CpuWorkers(2);
  try {
    assert.deepEqual(await pool.eval(cfg, params, data), whole);
  } finally {
    pool.close();
  }
});
