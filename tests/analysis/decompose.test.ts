// Direct logit attribution against the model itself: the parts must add up to the logits that
// cpuForward computes (a separate code path), on the grokking shape, a 2-layer GELU model with
// LayerNorm and an attention-only one (with standard and shortformer positions); and each part must be the change in the logits when its
// component is removed from the weights, where that change is exactly linear (last layer, no LN).
import * as assert from "node:assert/strict";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { dlaHookNames, logitAttribution } from "../../engine/analysis/decompose.ts";
import { add, slice, sub, Tensor } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import {
  ATTN_ONLY,
  ATTN_ONLY_LN,
  GELU_LN,
  GROKKING_SMALL,
  randomTokens,
  randomWeights,
} from "./models.ts";

const B = 6;

/** The model's logits, its cache, and the logits at `pos` `[B, U]`. */
function run(cfg: ModelConfig, weights: Map<string, Tensor>, tokens: Int32Array, pos: number) {
  const { logits, cache } = cpuForward(cfg, weights, tokens, B, { cache: true });
  return { cache: cache!, at: slice(logits, [null, pos]) };
}

/** `weights` with `name`'s entries where `zero(index)` holds set to 0. */
function zeroed(weights: Map<string, Tensor>, name: string, zero: (i: number) => boolean) {
  const w = weights.get(name)!;
  const out = new Map(weights);
  out.set(name, new Tensor(w.data.map((x, i) => (zero(i) ? 0 : x)), w.shape));
  return out;
}

/** `[B, U]` of component `label` in a `[C, B, U]` attribution. */
function part(dla: { labels: string[]; values: Tensor }, label: string): Tensor {
  const c = dla.labels.indexOf(label);
  assert.ok(c >= 0, `no component ${label} in ${dla.labels}`);
  return slice(dla.values, [c]);
}

const cases: [string, ModelConfig, number][] = [
  ["1 layer relu, no LN (grokking shape)", GROKKING_SMALL, 3],
  ["2 layers gelu, LN", GELU_LN, 5],
  ["attn_only, 2 layers, LN", ATTN_ONLY_LN, 4],
  ["2 layers gelu, LNPre (an imported GPT-2's)", { ...GELU_LN, normalization_type: "LNPre" }, 5],
  // The induction preset's kind: positions in q and k only, so no pos_embed part.
  [
    "attn_only, 2 layers, LN, shortformer",
    { ...ATTN_ONLY_LN, positional_embedding_type: "shortformer" },
    4,
  ],
];

for (const [name, cfg, T] of cases) {
  const weights = randomWeights(cfg, 1);
  const tokens = randomTokens(cfg, B, T, 2);
  for (const pos of [T - 1, 1]) {
    Deno.test(`logitAttribution (${name}, pos ${pos}): the parts sum to cpuForward's logits`, () => {
      const { cache, at } = run(cfg, weights, tokens, pos);
      const dla = logitAttribution(cfg, weights, cache, { pos });
      const heads = Array.from({ length: cfg.n_heads }, (_, h) => h);
      const standard = cfg.positional_embedding_type === "standard";
      const expected = standard ? ["embed", "pos_embed"] : ["embed"];
      for (let l = 0; l < cfg.n_layers; l++) {
        expected.push(...heads.map((h) => `L${l}H${h}`), `L${l} b_O`);
        if (!cfg.attn_only) expected.push(`L${l} MLP`);
      }
      assert.deepEqual(dla.labels, [...expected, "bias"]);
      assert.deepEqual(dla.values.shape, [expected.length + 1, B, cfg.d_vocab_out]);
      let sum = slice(dla.values, [0]);
      for (let c = 1; c < dla.labels.length; c++) sum = add(sum, slice(dla.values, [c]));
      assertClose(sum, at, 1e-10, "Σ parts vs cpuForward logits");
      assertClose(dla.logits, at, 1e-10, "logits vs cpuForward logits");
      assert.ok(dla.error < 1e-10, `reported error ${dla.error}`);
    });
  }

  Deno.test(`logitAttribution (${name}): with targets, each row's target column`, () => {
    const pos = T - 1;
    const { cache, at } = run(cfg, weights, tokens, pos);
    const targets = Int32Array.from({ length: B }, (_, r) => (3 * r + 1) % cfg.d_vocab_out);
    const full = logitAttribution(cfg, weights, cache);
    const dla = logitAttribution(cfg, weights, cache, { targets });
    const C = full.labels.length;
    assert.deepEqual(dla.labels, full.labels);
    assert.deepEqual(dla.values.shape, [C, B]);
    const U = cfg.d_vocab_out;
    const want = Float64Array.from({ length: C * B }, (_, i) => {
      const [c, r] = [Math.floor(i / B), i % B];
      return full.values.data[(c * B + r) * U + targets[r]!]!;
    });
    assertClose(dla.values.data, want, 1e-12, "target values vs full values");
    const real = Float64Array.from(targets, (t, r) => at.data[r * U + t]!);
    assertClose(dla.logits, new Tensor(real, [B]), 1e-10, "target logits vs cpuForward");
    assert.ok(dla.error < 1e-10, `reported error ${dla.error}`);
  });

  Deno.test(`logitAttribution (${name}): an f32 cache of only dlaHookNames`, () => {
    const { cache, at } = run(cfg, weights, tokens, T - 1);
    const f32 = new Map(dlaHookNames(cfg).map((n) => [n, cache.get(n)!.astype("f32")]));
    const dla = logitAttribution(cfg, weights, f32);
    assert.equal(dla.values.dtype, "f64");
    assertClose(dla.logits, at, 1e-4, "f32 cache: logits");
    assert.ok(dla.error < 1e-4, `reported error ${dla.error}`);
  });
}

Deno.test("logitAttribution: zeroing a last-layer head's W_O changes the logits by its part", () => {
  const cfg = ATTN_ONLY;
  const weights = randomWeights(cfg, 3);
  const tokens = randomTokens(cfg, B, 5, 4);
  const { cache, at } = run(cfg, weights, tokens, 4);
  const dla = logitAttribution(cfg, weights, cache);
  const { d_head: E, d_model: D } = cfg;
  let worst = 0;
  for (let h = 0; h < cfg.n_heads; h++) {
    const ablated = zeroed(weights, "blocks.1.attn.W_O", (i) => Math.floor(i / (E * D)) === h);
    const change = sub(at, run(cfg, ablated, tokens, 4).at);
    assertClose(change, part(dla, `L1H${h}`), 1e-10, `L1H${h}`);
    worst = Math.max(worst, Math.max(...change.data.map(Math.abs)));
  }
  assert.ok(worst > 0.1, `the heads matter (largest change ${worst})`);
  const noBias = zeroed(weights, "blocks.1.attn.b_O", () => true);
  assertClose(sub(at, run(cfg, noBias, tokens, 4).at), part(dla, "L1 b_O"), 1e-10, "L1 b_O");
});

Deno.test("logitAttribution: removing the grokking model's MLP changes the logits by its part", () => {
  const cfg = GROKKING_SMALL;
  const weights = randomWeights(cfg, 5);
  const tokens = randomTokens(cfg, B, 3, 6);
  const { cache, at } = run(cfg, weights, tokens, 2);
  const dla = logitAttribution(cfg, weights, cache);
  const noMlp = zeroed(
    zeroed(weights, "blocks.0.mlp.W_out", () => true),
    "blocks.0.mlp.b_out",
    () => true,
  );
  assertClose(sub(at, run(cfg, noMlp, tokens, 2).at), part(dla, "L0 MLP"), 1e-10, "L0 MLP");
  const noBias = zeroed(weights, "unembed.b_U", () => true);
  assertClose(sub(at, run(cfg, noBias, tokens, 2).at), part(dla, "bias"), 1e-10, "bias");
});

Deno.test("logitAttribution: a missing hook and a bad target are one-line errors", () => {
  const cfg = GROKKING_SMALL;
  const weights = randomWeights(cfg, 1);
  const { cache } = run(cfg, weights, randomTokens(cfg, B, 3, 2), 2);
  cache.delete("blocks.0.attn.hook_z");
  assert.throws(() => logitAttribution(cfg, weights, cache), /no blocks\.0\.attn\.hook_z/);
  const full = run(cfg, weights, randomTokens(cfg, B, 3, 2), 2).cache;
  const targets = new Int32Array(B).fill(cfg.d_vocab_out);
  assert.throws(() => logitAttribution(cfg, weights, full, { targets }), /outside/);
  assert.throws(() => logitAttribution(cfg, weights, full, { pos: 3 }), /out of range/);
});
