// The float64 CPU transformer against two independent sources: plain PyTorch autograd on fixed
// weights (fixtures/make_model.py: logits, every hook, the weighted loss, every gradient), and
// central differences of its own loss for every weight on tiny configs covering LayerNorm on and
// off, each act_fn, attention-only, two layers, short rows, both trainable_biases settings and the
// shortformer positional embedding, scoring several positions of each row with some left unscored
// (IGNORE).
import * as assert from "node:assert/strict";
import { IGNORE } from "../../engine/data/task.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { cpuEval, cpuLossAndGrads } from "../../engine/model/cpu_model.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { permutation, Rng, Tensor } from "../../engine/tensor/mod.ts";
import {
  assertClose,
  type FixtureArray,
  fromFixture,
  loadFixture,
  numericGrad,
} from "../helpers.ts";

interface FixtureCase {
  name: string;
  cfg: ModelConfig;
  batch: number;
  tokens: FixtureArray;
  targets: FixtureArray;
  row_weights: FixtureArray;
  weights: Record<string, FixtureArray>;
  logits: FixtureArray;
  loss: number;
  row_loss: FixtureArray;
  correct: FixtureArray;
  grads: Record<string, FixtureArray>;
  cache: Record<string, FixtureArray>;
}

const fixture = await loadFixture<{ cases: FixtureCase[] }>("model");
// fixtures/make_model.py's configs have no `eps`: its LayerNorm (F.layer_norm) adds 1e-5.
for (const c of fixture.cases) c.cfg = { ...c.cfg, eps: 1e-5 };

/** The fixture's weights, as the model takes them. */
function weightsOf(c: FixtureCase): Map<string, Tensor> {
  return new Map(Object.entries(c.weights).map(([name, a]) => [name, fromFixture(a)]));
}

for (const c of fixture.cases) {
  const tokens = Int32Array.from(c.tokens.data);
  const targets = Int32Array.from(c.targets.data);
  const rowWeights = Float64Array.from(c.row_weights.data);

  Deno.test(`cpu model vs PyTorch (${c.name}): the fixture's weights are the layout's`, () => {
    const specs = paramLayout(c.cfg).specs;
    assert.deepEqual(Object.keys(c.weights), specs.map((s) => s.name));
    for (const s of specs) assert.deepEqual(c.weights[s.name]!.shape, s.shape, s.name);
  });

  Deno.test(`cpu model vs PyTorch (${c.name}): logits and every hook`, () => {
    const { logits, cache } = cpuForward(c.cfg, weightsOf(c), tokens, c.batch, { cache: true });
    assertClose(logits, fromFixture(c.logits), 1e-12, "logits");
    assert.deepEqual([...cache!.keys()].sort(), Object.keys(c.cache).sort());
    for (const [name, want] of Object.entries(c.cache)) {
      let got = cache!.get(name)!;
      if (name.endsWith("hook_attn_scores")) {
        // The fixture writes the masked entries (-inf in PyTorch) as 0: they must be exactly the
        // keys after the query, and -Infinity here.
        const T = got.shape[3]!;
        got.data.forEach((x, i) => {
          const [q, k] = [Math.floor(i / T) % T, i % T];
          assert.equal(x === -Infinity, k > q, `${name}[${i}] = ${x}`);
        });
        got = new Tensor(got.data.map((x) => (x === -Infinity ? 0 : x)), got.shape);
      }
      assertClose(got, fromFixture(want), 1e-12, name);
    }
  });

  Deno.test(`cpu model vs PyTorch (${c.name}): weighted loss and every gradient`, () => {
    const { loss, grads, logits } = cpuLossAndGrads(
      c.cfg,
      weightsOf(c),
      tokens,
      targets,
      rowWeights,
      c.batch,
    );
    assertClose([loss], [c.loss], 1e-12, "loss");
    assertClose(logits, fromFixture(c.logits), 1e-12, "logits");
    assert.deepEqual([...grads.keys()], Object.keys(c.grads));
    for (const [name, want] of Object.entries(c.grads)) {
      assertClose(grads.get(name)!, fromFixture(want), 1e-10, `d ${name}`);
    }
  });

  Deno.test(`cpu model vs PyTorch (${c.name}): per-position loss and correct`, () => {
    const { loss, correct } = cpuEval(c.cfg, weightsOf(c), tokens, targets, c.batch);
    assertClose(loss, c.row_loss.data, 1e-12, "per-position loss");
    assert.deepEqual([...correct], c.correct.data);
  });
}

/** The tiny model every finite-difference case starts from. */
const TINY: ModelConfig = {
  n_layers: 1,
  d_model: 8,
  d_head: 4,
  n_heads: 2,
  d_mlp: 12,
  d_vocab: 7,
  d_vocab_out: 6,
  n_ctx: 3,
  act_fn: "relu",
  normalization_type: null,
  attn_only: false,
  eps: 1e-5,
  positional_embedding_type: "standard",
  initializer_range: 0.5,
  seed: 0,
  trainable_biases: "all",
};

/** Random weights of `cfg`, biases and LayerNorm parameters away from their initial 0 and 1. */
function randomWeights(cfg: ModelConfig, rng: Rng): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const spec of paramLayout(cfg).specs) {
    const data = new Float64Array(spec.size);
    const [centre, spread] = spec.init === "ones"
      ? [1, 0.3]
      : [0, spec.init === "zeros" ? 0.3 : 0.6];
    for (let i = 0; i < spec.size; i++) data[i] = centre + spread * rng.normal();
    out.set(spec.name, new Tensor(data, spec.shape));
  }
  return out;
}

/** Coordinates checked per weight: all of the small ones, a seeded sample of the rest. */
const COORDS = 20;

const GRAD_CASES: [string, Partial<ModelConfig>, number?][] = [
  ["no LN, relu", {}],
  ["LN, gelu", { normalization_type: "LN", act_fn: "gelu" }],
  ["LN, gelu_new, only MLP biases train", {
    normalization_type: "LN",
    act_fn: "gelu_new",
    trainable_biases: "mlp",
  }],
  ["attention only, LN, 2 layers", { normalization_type: "LN", attn_only: true, n_layers: 2 }],
  ["2 layers, LN, relu", { normalization_type: "LN", n_layers: 2 }],
  ["2 layers, no LN, gelu, only MLP biases", {
    n_layers: 2,
    act_fn: "gelu",
    trainable_biases: "mlp",
  }],
  ["rows of 2 < n_ctx 3, LN, gelu_new", { normalization_type: "LN", act_fn: "gelu_new" }, 2],
  ["shortformer, attention only, LN, 2 layers", {
    normalization_type: "LN",
    attn_only: true,
    n_layers: 2,
    positional_embedding_type: "shortformer",
  }],
  ["shortformer, no LN, relu, rows of 2", { positional_embedding_type: "shortformer" }, 2],
];

for (const [label, overrides, T = 3] of GRAD_CASES) {
  Deno.test(`cpu model gradients match central differences: ${label}`, () => {
    const cfg = { ...TINY, ...overrides };
    const rng = new Rng(label.length * 7919 + T);
    const batch = 3;
    const weights = randomWeights(cfg, rng);
    const tokens = Int32Array.from({ length: batch * T }, () => rng.int(cfg.d_vocab));
    // Every position scored but one in three, so the loss reaches each position's logits.
    const targets = Int32Array.from(
      { length: batch * T },
      (_, i) => i % 3 === 1 ? IGNORE : rng.int(cfg.d_vocab_out),
    );
    const rowWeights = new Float64Array([0.5, 0.2, 0.3]); // unequal, as oocl's k1/k2/k3 mix
    const { grads } = cpuLossAndGrads(cfg, weights, tokens, targets, rowWeights, batch);
    for (const spec of paramLayout(cfg).specs) {
      const grad = grads.get(spec.name)!;
      assert.deepEqual(grad.shape, spec.shape, spec.name);
      if (!spec.trainable) {
        assert.ok(grad.data.every((g) => g === 0), `${spec.name} is fixed: its gradient is 0`);
        continue;
      }
      const w = weights.get(spec.name)!.data as Float64Array;
      // Distinct coordinates: a repeated one would be written twice per probe, the last winning.
      const picked = Array.from(permutation(spec.size, { rng }).data.slice(0, COORDS));
      const values = Float64Array.from(picked, (i) => w[i]!);
      const numeric = numericGrad(
        (x) => {
          const saved = picked.map((i) => w[i]!);
          picked.forEach((i, j) => (w[i] = x[j]!));
          const { loss } = cpuLossAndGrads(cfg, weights, tokens, targets, rowWeights, batch);
          picked.forEach((i, j) => (w[i] = saved[j]!));
          return loss;
        },
        values,
        1e-5,
      );
      const analytic = picked.map((i) => grad.data[i]!);
      // With eps 1e-5 truncation and rounding both stay near 1e-9 of the gradient's scale (at most
      // 2.5e-9 seen here); 1e-6 lets rounding reach 1e-8 on the two-layer cases.
      const scale = Math.max(1, ...numeric.map(Math.abs));
      assertClose(analytic, numeric, 1e-8 * scale, `d ${spec.name} (${label})`);
    }
  });
}

Deno.test("cpu model: rows shorter than n_ctx give W_pos no gradient past them", () => {
  const cfg = { ...TINY, normalization_type: "LN" as const };
  const rng = new Rng(5);
  const weights = randomWeights(cfg, rng);
  const { grads } = cpuLossAndGrads(
    cfg,
    weights,
    new Int32Array([1, 2, 3, 4]),
    new Int32Array([IGNORE, 0, 2, 5]),
    new Float64Array([0.5, 0.5]),
    2,
  );
  const dW_pos = grads.get("pos_embed.W_pos")!;
  assert.ok(dW_pos.data.slice(2 * 8).every((g) => g === 0));
  assert.ok(dW_pos.data.slice(0, 2 * 8).some((g) => g !== 0));
});

Deno.test("cpu model: a shortformer's positions reach q and k, never v or the residual", () => {
  const cfg = { ...TINY, n_layers: 2, positional_embedding_type: "shortformer" as const };
  const weights = randomWeights(cfg, new Rng(9));
  const tokens = new Int32Array([1, 2, 3, 4, 5, 6]);
  const run = (w: Map<string, Tensor>) => cpuForward(cfg, w, tokens, 2, { cache: true }).cache!;
  const moved = (w: Map<string, Tensor>) => {
    const W_pos = w.get("pos_embed.W_pos")!;
    const shifted = new Tensor(Float64Array.from(W_pos.data, (x) => x + 1), W_pos.shape);
    return new Map([...w, ["pos_embed.W_pos", shifted]]);
  };
  const [a, b] = [run(weights), run(moved(weights))];
  const same = (name: string) => assertClose(a.get(name)!, b.get(name)!, 0, name);
  assertClose(a.get("blocks.0.hook_resid_pre")!, a.get("hook_embed")!, 0, "resid_pre = embed");
  same("blocks.0.attn.hook_v");
  assert.ok(
    a.get("blocks.0.attn.hook_q")!.data.some((x, i) =>
      x !== b.get("blocks.0.attn.hook_q")!.data[i]
    ),
  );
  // With W_Q = W_K = 0 (b_Q, b_K kept) every score is the same in each row whatever the
  // positions, so nothing downstream depends on W_pos: the logits are the same bits.
  const blind = new Map(weights);
  for (const l of [0, 1]) {
    for (const n of ["Q", "K"]) {
      const W = weights.get(`blocks.${l}.attn.W_${n}`)!;
      blind.set(`blocks.${l}.attn.W_${n}`, new Tensor(new Float64Array(W.size), W.shape));
    }
  }
  const logits = (w: Map<string, Tensor>) => cpuForward(cfg, w, tokens, 2).logits;
  assertClose(logits(blind), logits(moved(blind)), 0, "logits with W_Q = W_K = 0");
  // The same weights as a standard model: W_pos joins the residual stream, so the logits move.
  const standard = { ...cfg, positional_embedding_type: "standard" as const };
  const std = (w: Map<string, Tensor>) => cpuForward(standard, w, tokens, 2).logits.data;
  assert.ok(std(blind).some((x, i) => x !== std(moved(blind))[i]));
});

Deno.test("cpu model: the loss is the row-weighted sum of cpuEval's per-position losses", () => {
  const cfg = { ...TINY, act_fn: "gelu" as const };
  const weights = randomWeights(cfg, new Rng(6));
  const tokens = new Int32Array([0, 1, 2, 3, 4, 5, 6, 0, 1]);
  const targets = new Int32Array([1, IGNORE, 3, IGNORE, 4, 5, 2, 2, IGNORE]);
  const w = new Float64Array([1, 0, 2.5]);
  const { loss } = cpuLossAndGrads(cfg, weights, tokens, targets, w, 3);
  const at = cpuEval(cfg, weights, tokens, targets, 3).loss;
  assertClose([loss], [at[0]! + at[2]! + 2.5 * (at[6]! + at[7]!)], 1e-14, "weighted loss");
  assert.ok(at[4]! > 0 && at[5]! > 0); // the zero-weight row still has losses of its own
  assert.deepEqual([at[1], at[3], at[8]], [0, 0, 0]); // unscored positions
});

Deno.test("cpu model: f32 weights give the logits of their f64 values", () => {
  const weights = randomWeights(TINY, new Rng(7));
  const f32 = new Map([...weights].map(([k, t]) => [k, t.astype("f32")]));
  const f64 = new Map([...f32].map(([k, t]) => [k, t.astype("f64")]));
  const tokens = new Int32Array([3, 1, 4, 1, 5, 6]);
  const a = cpuForward(TINY, f32, tokens, 2).logits;
  assert.equal(a.dtype, "f64");
  assertClose(a, cpuForward(TINY, f64, tokens, 2).logits, 0, "logits");
  assert.equal(cpuForward(TINY, f32, tokens, 2).cache, undefined);
});

Deno.test("cpu model: bad input is a one-line RangeError naming it", () => {
  const weights = randomWeights(TINY, new Rng(8));
  const tokens = new Int32Array([1, 2, 3, 4, 5, 6]);
  const targets = new Int32Array([IGNORE, IGNORE, 0, IGNORE, IGNORE, 1]);
  const w = new Float64Array([0.5, 0.5]);
  const cases: [() => unknown, RegExp][] = [
    [() => cpuForward(TINY, weights, tokens, 0), /^batch must be a positive integer, got 0$/],
    [() => cpuForward(TINY, weights, tokens, 4), /^tokens: length 6 is not batch 4 × pos/],
    [() => cpuForward(TINY, weights, new Int32Array(8), 2), /n_ctx 3/],
    [() => cpuForward(TINY, weights, new Int32Array([1, 7]), 1), /^tokens\[1\] = 7 is outside/],
    [
      () => cpuEval(TINY, weights, tokens, new Int32Array([0, 0, 0, 0, 0, 6]), 2),
      /^targets\[5\] = 6/,
    ],
    [
      () => cpuEval(TINY, weights, tokens, new Int32Array([0, 0]), 2),
      /^targets: length 2, expected/,
    ],
    [
      () => cpuEval(TINY, weights, tokens, new Int32Array([0, -2, 0, 0, 0, 0]), 2),
      /^targets\[1\] = -2/,
    ],
    [
      () => cpuLossAndGrads(TINY, weights, tokens, targets, new Float64Array(3), 2),
      /^rowWeights: length 3, expected batch 2$/,
    ],
    [
      () => cpuForward(TINY, new Map([...weights].filter(([k]) => k !== "unembed.b_U")), tokens, 2),
      /^weights: missing unembed.b_U$/,
    ],
    [
      () =>
        cpuForward(
          TINY,
          new Map([...weights, ["embed.W_E", new Tensor(new Float64Array(8), [1, 8])]]),
          tokens,
          2,
        ),
      /^weights: embed.W_E has shape \[1,8\], expected \[7,8\]$/,
    ],
    [() => cpuForward({ ...TINY, n_heads: 0 }, weights, tokens, 2), /^n_heads must be/],
    [
      () =>
        cpuForward(
          { ...TINY, positional_embedding_type: "rotary" as "standard" },
          weights,
          tokens,
          2,
        ),
      /^positional_embedding_type must be standard or shortformer, got rotary$/,
    ],
  ];
  for (const [run, message] of cases) {
    assert.throws(
      run,
      (e: Error) => e instanceof RangeError && message.test(e.message) && !e.message.includes("\n"),
    );
  }
  assert.ok(cpuLossAndGrads(TINY, weights, tokens, targets, w, 2).loss > 0);
});
