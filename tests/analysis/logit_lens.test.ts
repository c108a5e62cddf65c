// The logit lens against the model and against hand computations: its last stage must be the
// model's own logits, probability and rank (from cpuForward, ranked here by sorting); its first
// stage must be the embedding read straight through the unembedding (LayerNorm done by hand);
// and a hand-built model whose every stage is W_E[token] pins down ranks with ties.
import * as assert from "node:assert/strict";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { DEFAULT_MODEL, type ModelConfig } from "../../engine/model/config.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { lensHookNames, logitLens } from "../../engine/analysis/logit_lens.ts";
import { slice, softmax, Tensor } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import { ATTN_ONLY_LN, GELU_LN, GROKKING_SMALL, randomTokens, randomWeights } from "./models.ts";

const B = 7;

/** Where `t` lands when `row` is sorted by value descending, ties by id ascending. */
function sortedRank(row: ArrayLike<number>, t: number): number {
  const ids = Array.from(row, (_, u) => u);
  ids.sort((a, b) => row[b]! - row[a]! || a - b);
  return ids.indexOf(t);
}

const cases: [string, ModelConfig, number][] = [
  ["1 layer relu, no LN", GROKKING_SMALL, 3],
  ["2 layers gelu, LN", GELU_LN, 5],
  ["attn_only, 2 layers, LN", ATTN_ONLY_LN, 4],
  ["2 layers gelu, LNPre (an imported GPT-2's)", { ...GELU_LN, normalization_type: "LNPre" }, 5],
];

for (const [name, cfg, T] of cases) {
  const weights = randomWeights(cfg, 11);
  const tokens = randomTokens(cfg, B, T, 12);
  const targets = Int32Array.from({ length: B }, (_, r) => (5 * r + 2) % cfg.d_vocab_out);
  const { logits, cache } = cpuForward(cfg, weights, tokens, B, { cache: true });
  const U = cfg.d_vocab_out;

  for (const pos of [T - 1, 1]) {
    Deno.test(`logitLens (${name}, pos ${pos}): the last stage is the model`, () => {
      // A cache of only the hooks lensHookNames lists is enough.
      const only = new Map(lensHookNames(cfg).map((n) => [n, cache!.get(n)!]));
      const lens = logitLens(cfg, weights, only, targets, { pos });
      const stages = ["resid_pre 0"];
      for (let l = 0; l < cfg.n_layers; l++) {
        if (!cfg.attn_only) stages.push(`resid_mid ${l}`);
        stages.push(`resid_post ${l}`);
      }
      assert.deepEqual(lens.labels, stages);
      const S = stages.length;
      assert.deepEqual(lens.logit.shape, [S, B]);
      const at = slice(logits, [null, pos]); // [B, U]
      const probs = softmax(at);
      const want = { logit: [] as number[], prob: [] as number[], rank: [] as number[] };
      targets.forEach((t, r) => {
        want.logit.push(at.data[r * U + t]!);
        want.prob.push(probs.data[r * U + t]!);
        want.rank.push(sortedRank(at.data.subarray(r * U, (r + 1) * U), t));
      });
      assertClose(slice(lens.logit, [S - 1]), want.logit, 1e-10, "last stage logit");
      assertClose(slice(lens.prob, [S - 1]), want.prob, 1e-12, "last stage prob");
      assert.deepEqual([...slice(lens.rank, [S - 1]).data], want.rank);
    });
  }

  Deno.test(`logitLens (${name}): the first stage is the embedding through the unembedding`, () => {
    const pos = T - 1;
    const lens = logitLens(cfg, weights, cache!, targets);
    const { d_model: D } = cfg;
    const [W_E, W_pos, W_U, b_U] = ["embed.W_E", "pos_embed.W_pos", "unembed.W_U", "unembed.b_U"]
      .map((n) => weights.get(n)!.data);
    const want = Array.from(targets, (t, r) => {
      const tok = tokens[r * T + pos]!;
      let x = Array.from({ length: D }, (_, d) => W_E![tok * D + d]! + W_pos![pos * D + d]!);
      if (cfg.normalization_type !== null) {
        const mean = x.reduce((a, v) => a + v, 0) / D;
        const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / D;
        // LNPre normalises only: w = 1, b = 0.
        const [w, b] = cfg.normalization_type === "LN"
          ? ["ln_final.w", "ln_final.b"].map((n) => weights.get(n)!.data)
          : [new Float64Array(D).fill(1), new Float64Array(D)];
        x = x.map((v, d) => ((v - mean) / Math.sqrt(variance + 1e-5)) * w![d]! + b![d]!);
      }
      return x.reduce((a, v, d) => a + v * W_U![d * U + t]!, b_U![t]!);
    });
    assertClose(slice(lens.logit, [0]), want, 1e-10, "resid_pre 0 logit");
  });
}

Deno.test("logitLens: ranks and probabilities of a hand-built model, ties included", () => {
  // One position, attention writing nothing (W_O = b_O = 0), W_U the identity: every stage's
  // logits are W_E[token] = [3, 1, 3, 0, 2].
  const cfg: ModelConfig = {
    ...DEFAULT_MODEL,
    n_layers: 1,
    attn_only: true,
    d_model: 5,
    d_head: 2,
    n_heads: 1,
    d_vocab: 5,
    d_vocab_out: 5,
    n_ctx: 1,
  };
  const weights = new Map<string, Tensor>();
  for (const s of paramLayout(cfg).specs) {
    weights.set(s.name, new Tensor(new Float64Array(s.size).fill(0.3), s.shape));
  }
  const eye = Float64Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0));
  const W_E = new Float64Array(25);
  W_E.set([3, 1, 3, 0, 2]);
  weights.set("embed.W_E", new Tensor(W_E, [5, 5]));
  weights.set("pos_embed.W_pos", new Tensor(new Float64Array(5), [1, 5]));
  weights.set("blocks.0.attn.W_O", new Tensor(new Float64Array(10), [1, 2, 5]));
  weights.set("blocks.0.attn.b_O", new Tensor(new Float64Array(5), [5]));
  weights.set("unembed.W_U", new Tensor(eye, [5, 5]));
  weights.set("unembed.b_U", new Tensor(new Float64Array(5), [5]));
  const { cache } = cpuForward(cfg, weights, new Int32Array(5), 5, { cache: true });
  const lens = logitLens(cfg, weights, cache!, new Int32Array([0, 2, 4, 1, 3]));
  assert.deepEqual(lens.labels, ["resid_pre 0", "resid_post 0"]);
  // Target 0 is the argmax (the lower id of the tie at 3); 2 loses the tie to 0.
  assert.deepEqual([...lens.rank.data], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  assert.deepEqual([...lens.logit.data], [3, 3, 2, 1, 0, 3, 3, 2, 1, 0]);
  const z = 2 * Math.exp(3) + Math.exp(2) + Math.exp(1) + 1;
  const p = [3, 3, 2, 1, 0].map((v) => Math.exp(v) / z);
  assertClose(lens.prob, [...p, ...p], 1e-15, "probabilities");
});
