// TransformerLens' head detectors ("mul" measure): the detection patterns and scores on hand-built
// attention patterns against hand-worked values and against a numpy re-implementation of
// head_detector.py (fixtures/make_head_detector.py); then every head of a hand-built 2-layer
// attention-only model, whose previous-token and induction heads are exact by construction, read
// through the CPU runner's hook_pattern; and the GPU runner's scores against the CPU's.
import * as assert from "node:assert/strict";
import {
  detectHeads,
  detectionPattern,
  HEAD_KINDS,
  headDetectorScores,
  headScore,
  repeatedTokens,
} from "../../engine/analysis/head_detector.ts";
import { cpuRunner, gpuRunner } from "../../engine/hooks/mod.ts";
import { Rng, tensor } from "../../engine/tensor/mod.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { loadFixture } from "../helpers.ts";
import { GELU_LN, handBuiltInduction, randomWeights } from "./models.ts";

/** The (q, k) entries of a flat [T, T] pattern that are 1. */
function ones(pattern: Float64Array): [number, number][] {
  const T = Math.sqrt(pattern.length);
  return [...pattern.keys()].filter((i) => pattern[i] === 1).map((i) => [Math.floor(i / T), i % T]);
}

Deno.test("detection patterns as TransformerLens builds them, by hand", () => {
  const tokens = Int32Array.of(4, 5, 4, 5, 4);
  assert.deepEqual(ones(detectionPattern("previous_token", tokens)), [[1, 0], [2, 1], [3, 2], [
    4,
    3,
  ]]);
  // duplicates below the diagonal: 4 at 0, 2, 4 and 5 at 1, 3
  assert.deepEqual(ones(detectionPattern("duplicate_token", tokens)), [[2, 0], [3, 1], [4, 0], [
    4,
    2,
  ]]);
  // the duplicate pattern one key to the right: (q, k) with tokens[k - 1] = tokens[q]
  assert.deepEqual(ones(detectionPattern("induction", tokens)), [[2, 1], [3, 2], [4, 1], [4, 3]]);
});

Deno.test("mul scores on hand-built patterns: hand-worked values, with and without exclusions", () => {
  const tokens = Int32Array.of(1, 2, 1);
  // rows: position 0 all on itself; 1: 0.25 / 0.75; 2: 0.5 / 0.3 / 0.2
  const pattern = [1, 0, 0, 0.25, 0.75, 0, 0.5, 0.3, 0.2];
  const prev = detectionPattern("previous_token", tokens); // (1, 0), (2, 1)
  const dup = detectionPattern("duplicate_token", tokens); // (2, 0)
  const ind = detectionPattern("induction", tokens); // (2, 1)
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) < 1e-15, `${what}: ${a} vs ${b}`);
  close(headScore(pattern, prev), (0.25 + 0.3) / 3, "previous");
  close(headScore(pattern, dup), 0.5 / 3, "duplicate");
  close(headScore(pattern, ind), 0.3 / 3, "induction");
  // exclude_bos: column 0 gone from both sums: (0.3) / (0.75 + 0.3 + 0.2)
  close(headScore(pattern, prev, { exclude_bos: true }), 0.3 / 1.25, "previous, no bos");
  // exclude_current_token: the diagonal gone: (0.25 + 0.3) / (0.25 + 0.5 + 0.3)
  close(
    headScore(pattern, prev, { exclude_current_token: true }),
    0.55 / 1.05,
    "previous, no current",
  );
  close(
    headScore(pattern, dup, { exclude_bos: true, exclude_current_token: true }),
    0 / 0.3 + 0,
    "duplicate, neither",
  );
});

Deno.test("mul scores against the numpy re-implementation of TransformerLens' head_detector", async () => {
  const fixture = await loadFixture<
    { cases: { tokens: number[]; pattern: number[]; scores: Record<string, number> }[] }
  >("head_detector");
  let worst = 0;
  for (const c of fixture.cases) {
    for (const kind of HEAD_KINDS) {
      for (const bos of [false, true]) {
        for (const current of [false, true]) {
          const want = c.scores[`${kind} bos=${+bos} current=${+current}`]!;
          const got = headScore(c.pattern, detectionPattern(kind, Int32Array.from(c.tokens)), {
            exclude_bos: bos,
            exclude_current_token: current,
          });
          worst = Math.max(worst, Math.abs(got - want));
        }
      }
    }
  }
  assert.ok(worst < 1e-14, `max |mechlab - numpy| = ${worst}`);
});

Deno.test("detectHeads averages over sequences and heads keep their order", () => {
  // two sequences, two heads: head 0 on the previous token, head 1 on itself
  const prevRow = [1, 0, 1, 0]; // [[1, 0], [1, 0]]
  const self = [1, 0, 0, 1];
  const patterns = tensor([...prevRow, ...self, ...self, ...self], [2, 2, 2, 2]);
  const scores = detectHeads([patterns], Int32Array.of(3, 4, 3, 3), "previous_token");
  // head 0: sequence 0 scores 1/2, sequence 1 (attending to itself) 0: mean 1/4; head 1: 0
  assert.deepEqual(scores, [[0.25, 0]]);
});

Deno.test("a hand-built model's previous-token and induction heads score as constructed", async () => {
  const { cfg, weights } = handBuiltInduction();
  const runner = cpuRunner(cfg, weights);
  const tokens = Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3); // 4 distinct tokens, repeated: T = 8
  const names = [0, 1].map((l) => `blocks.${l}.attn.hook_pattern`);
  const { cache } = await runner.runWithCache(tokens, 1, { names });
  const patterns = names.map((n) => cache.get(n)!);
  const score = (kind: (typeof HEAD_KINDS)[number]) => detectHeads(patterns, tokens, kind);
  const [prev, dup, ind] = [score("previous_token"), score("duplicate_token"), score("induction")];
  // Uniform head (zero weights): row q puts 1/(q + 1) on each key.
  const uniformPrev = [2, 3, 4, 5, 6, 7, 8].reduce((s, n) => s + 1 / n, 0) / 8;
  const uniformRepeat = (1 / 5 + 1 / 6 + 1 / 7 + 1 / 8) / 8; // rows 4..7, one key each
  const want = {
    // L0H0: every row q >= 1 on q - 1, row 0 on itself: 7 of 8 rows
    prev: [[7 / 8, uniformPrev], [(1 / 2 + 1 / 3) / 8, uniformPrev]],
    dup: [[0, uniformRepeat], [0, uniformRepeat]],
    // L1H0: rows 4..7 all on the key after the earlier copy, first-half rows uniform over 1..q
    ind: [[0, uniformRepeat], [4 / 8, uniformRepeat]],
  };
  for (
    const [got, expected, what] of [[prev, want.prev, "previous"], [dup, want.dup, "duplicate"], [
      ind,
      want.ind,
      "induction",
    ]] as const
  ) {
    got.forEach((row, l) =>
      row.forEach((v, h) =>
        assert.ok(
          Math.abs(v - expected[l]![h]!) < 1e-15,
          `${what} L${l}H${h}: ${v} vs ${expected[l]![h]}`,
        )
      )
    );
  }
  assert.equal(prev[0]![0], 7 / 8); // exact: the pattern is exactly one-hot
  assert.equal(ind[1]![0], 1 / 2);
});

Deno.test("headDetectorScores on seeded repeated random tokens: the constructed heads' scores", async () => {
  const { cfg, weights } = handBuiltInduction();
  const scores = await headDetectorScores(cpuRunner(cfg, weights), cfg);
  assert.deepEqual([scores.seq_len, scores.batch, scores.seed], [8, 10, 0]);
  assert.equal(scores.previous_token[0]![0], 7 / 8); // whatever the tokens
  // The same sequences every call: a checkpoint is comparable with the next.
  const again = await headDetectorScores(cpuRunner(cfg, weights), cfg);
  assert.deepEqual(again, scores);
  const t = repeatedTokens(cfg.d_vocab, { half: 4, batch: 10, seed: 0 });
  for (let b = 0; b < 10; b++) {
    for (let i = 0; i < 4; i++) assert.equal(t[b * 8 + i], t[b * 8 + 4 + i]);
  }
  // With 6 token ids, the first halves repeat tokens, which TransformerLens' pattern counts too:
  // the constructed heads still lead their detectors.
  const best = (s: number[][]) => s.flat().indexOf(Math.max(...s.flat()));
  assert.equal(best(scores.previous_token), 0); // L0H0
  assert.equal(best(scores.induction), 2); // L1H0
});

gpuTest("the GPU runner's detector scores are the CPU's (f32 patterns)", async (gpu) => {
  // Every bias trained: with "mlp" the GPU model holds b_Q, b_K, b_V at 0 whatever the weights say.
  const cfg = { ...GELU_LN, n_ctx: 12, trainable_biases: "all" as const };
  const weights = randomWeights(cfg, new Rng(3).nextUint32());
  const cpu = await headDetectorScores(cpuRunner(cfg, weights), cfg);
  const runner = await gpuRunner(gpu, cfg, weights, { maxBatch: 16 });
  try {
    const onGpu = await headDetectorScores(runner, cfg);
    for (const kind of HEAD_KINDS) {
      cpu[kind].flat().forEach((v, i) => {
        const g = onGpu[kind].flat()[i]!;
        assert.ok(Math.abs(v - g) < 1e-5, `${kind} head ${i}: cpu ${v}, gpu ${g}`);
      });
    }
  } finally {
    runner.release();
  }
});
