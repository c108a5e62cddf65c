// Categorical sampling and the generation filters, against hand-worked cases and frequency
// bounds: over N draws each count must lie within 5 binomial standard deviations
// sqrt(N p (1 - p)) of N p. Seeds are fixed, so the tests are deterministic.
import * as assert from "node:assert/strict";
import {
  applyTemperature,
  argmax,
  Rng,
  sampleCategorical,
  sampleLogits,
  softmax,
  tensor,
  topK,
  topP,
} from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";

const N = 100_000;

/** Asserts the counts of `indices` are within 5 binomial SDs of `N p_i` for the normalised `p`. */
function assertFrequencies(indices: Int32Array, p: readonly number[]): void {
  const total = p.reduce((a, b) => a + b, 0);
  const counts = new Array<number>(p.length).fill(0);
  for (const i of indices) counts[i]!++;
  const n = indices.length;
  p.forEach((w, i) => {
    const q = w / total;
    const bound = 5 * Math.sqrt(n * q * (1 - q));
    assert.ok(
      Math.abs(counts[i]! - n * q) <= bound,
      `index ${i}: count ${counts[i]} vs expected ${n * q} ± ${bound}`,
    );
  });
}

Deno.test("sampleCategorical: a certain outcome, and a zero-probability one never drawn", () => {
  assert.deepEqual([...sampleCategorical([0, 1, 0], 1000, { seed: 1 })], new Array(1000).fill(1));
  const halves = sampleCategorical([0.5, 0.5, 0], 10_000, { seed: 2 });
  assert.ok(halves.every((i) => i === 0 || i === 1));
  assert.ok(halves.includes(0) && halves.includes(1));
  assert.deepEqual([...sampleCategorical([0, 0, 3], 5, { seed: 3 })], [2, 2, 2, 2, 2]);
});

Deno.test("sampleCategorical: the uniform draw maps to the first cumulative sum above it", () => {
  // cdf [0.1, 0.3, 0.6, 1.0]: hand-worked index for each uniform the same seed produces.
  const u = new Rng(4);
  const expected = Array.from({ length: 50 }, () => {
    const x = u.uniform();
    return x < 0.1 ? 0 : x < 0.3 ? 1 : x < 0.6 ? 2 : 3;
  });
  assert.deepEqual([...sampleCategorical([0.1, 0.2, 0.3, 0.4], 50, { seed: 4 })], expected);
});

Deno.test("sampleCategorical: frequencies over 1e5 draws within 5 binomial SDs", () => {
  const p = [0.1, 0.2, 0.3, 0.4];
  assertFrequencies(sampleCategorical(p, N, { seed: 10 }), p);
  assertFrequencies(sampleCategorical(tensor(p, [4], "f32"), N, { seed: 11 }), p);
  // unnormalised weights and many zeros
  const w = [0, 1, 0, 0, 3, 0, 0.5, 0];
  const drawn = sampleCategorical(w, N, { seed: 12 });
  assertFrequencies(drawn, w);
  assert.ok(drawn.every((i) => w[i]! > 0));
});

Deno.test("sampleCategorical: weights near the largest double draw as their ratios", () => {
  // Unscaled, the total 3e308 overflowed to Infinity and every draw was the last index. Counts
  // are held to the file's bound, 5 binomial SDs (±791 of 50000 here).
  const big = 1.5e308;
  assertFrequencies(sampleCategorical([big, big], N, { seed: 13 }), [1, 1]);
  const rows = sampleCategorical(tensor([0, big, big / 3, 1, 1, 1], [2, 3]), N, { seed: 14 });
  assertFrequencies(rows.subarray(0, N), [0, 3, 1]);
  assertFrequencies(rows.subarray(N), [1, 1, 1]);
});

Deno.test("sampleCategorical: same seed same indices, different seed different", () => {
  const p = [0.25, 0.25, 0.25, 0.25];
  const a = sampleCategorical(p, 200, { seed: 5 });
  assert.deepEqual(a, sampleCategorical(p, 200, { seed: 5 }));
  assert.notDeepEqual(a, sampleCategorical(p, 200, { seed: 6 }));
  assert.deepEqual(sampleCategorical(p, 0, { seed: 5 }), new Int32Array(0));
});

Deno.test("sampleCategorical: 2-D input gives n draws per row, row by row, from one stream", () => {
  const probs = tensor([1, 0, 0, 0, 0, 1], [2, 3]);
  assert.deepEqual([...sampleCategorical(probs, 3, { seed: 0 })], [0, 0, 0, 2, 2, 2]);
  const rows = [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]];
  const rng = new Rng(9);
  const byRow = [
    ...sampleCategorical(rows[0]!, 40, { rng }),
    ...sampleCategorical(rows[1]!, 40, { rng }),
  ];
  assert.deepEqual([...sampleCategorical(tensor(rows.flat(), [2, 3]), 40, { seed: 9 })], byRow);
  assert.equal(sampleCategorical(tensor([], [0, 3]), 4, { seed: 0 }).length, 0);
});

Deno.test("sampleCategorical: errors", () => {
  const s = { seed: 0 };
  assert.throws(
    () => sampleCategorical([0.5, -0.1, 0.6], 1, s),
    /^Error: sampleCategorical: probs\[1\] is -0.1; probabilities must be finite and >= 0$/,
  );
  assert.throws(() => sampleCategorical([NaN, 1], 1, s), /probs\[0\] is NaN; probabilities/);
  assert.throws(() => sampleCategorical([1, Infinity], 1, s), /probs\[1\] is Infinity/);
  assert.throws(
    () => sampleCategorical(tensor([1, 0, 0, -1], [2, 2]), 1, s),
    /sampleCategorical: probs\[1, 1\] is -1; probabilities must be finite and >= 0/,
  );
  assert.throws(
    () => sampleCategorical([0, 0], 1, s),
    /^Error: sampleCategorical: all probabilities are zero$/,
  );
  assert.throws(
    () => sampleCategorical(tensor([1, 0, 0, 0], [2, 2]), 1, s),
    /sampleCategorical: all probabilities are zero in row 1/,
  );
  assert.throws(
    () => sampleCategorical([], 1, s),
    /^Error: sampleCategorical: empty distribution$/,
  );
  assert.throws(
    () => sampleCategorical(tensor([], [2, 0]), 1, s),
    /sampleCategorical: empty distribution/,
  );
  for (const n of [-1, 1.5, NaN]) {
    assert.throws(
      () => sampleCategorical([1], n, s),
      new RegExp(`sampleCategorical: n must be a non-negative integer, got ${n}`),
    );
  }
  assert.throws(
    () => sampleCategorical(tensor([1, 1], [1, 1, 2]), 1, s),
    /sampleCategorical: probs must be 1-D or 2-D, got shape \[1,1,2\]/,
  );
  assert.throws(
    () => sampleCategorical([1], 1, {}),
    /sampleCategorical: pass exactly one of seed and rng/,
  );
});

Deno.test("applyTemperature divides, and rejects a non-positive temperature", () => {
  assertClose(applyTemperature(tensor([1, -2, 4]), 0.5), tensor([2, -4, 8]), 0, "t = 0.5");
  assert.equal(applyTemperature(tensor([1, 2], [2], "f32"), 2).dtype, "f32");
  for (const t of [0, -1, NaN]) {
    assert.throws(
      () => applyTemperature(tensor([1]), t),
      new RegExp(`^Error: applyTemperature: temperature must be > 0, got ${t}$`),
    );
  }
});

Deno.test("temperature near 0 concentrates on the argmax; a high one flattens", () => {
  const logits = tensor([1, 2.5, 2.4, 0, 2.45, -1, 2.49, 0.5], [2, 4]);
  const drawn = sampleLogits(logits, { temperature: 1e-3, n: 500, seed: 3 });
  const best = argmax(logits).data;
  drawn.forEach((i, k) => assert.equal(i, best[Math.floor(k / 500)]));
  // logits log [0.64, 0.36] at temperature 2 are probabilities ∝ [0.8, 0.6], i.e. [4/7, 3/7]
  const two = tensor([0.64, 0.36].map(Math.log));
  assertClose(softmax(applyTemperature(two, 2)), tensor([4 / 7, 3 / 7]), 1e-15, "softmax at t=2");
  assertFrequencies(sampleLogits(two, { temperature: 2, n: N, seed: 4 }), [4, 3]);
});

Deno.test("topK keeps the k largest per row, the first ones on ties", () => {
  const I = -Infinity;
  assert.deepEqual([...topK(tensor([1, 3, 3, 2]), 2).data], [I, 3, 3, I]);
  assert.deepEqual([...topK(tensor([3, 1, 3, 3]), 2).data], [3, I, 3, I]);
  assert.deepEqual([...topK(tensor([5, 4, 6]), 1).data], [I, I, 6]);
  assert.deepEqual([...topK(tensor([5, 4, 6]), 9).data], [5, 4, 6]);
  const rows = topK(tensor([1, 2, 3, 9, 8, 7], [2, 3]), 2);
  assert.deepEqual(rows.shape, [2, 3]);
  assert.deepEqual([...rows.data], [I, 2, 3, 9, 8, I]);
  const ints = topK(tensor([1, 2, 3], [3], "i32"), 1);
  assert.equal(ints.dtype, "f64");
  assert.deepEqual([...ints.data], [I, I, 3]);
  assert.throws(() => topK(tensor([1]), 0), /^Error: topK: k must be an integer >= 1, got 0$/);
  assert.throws(() => topK(tensor([1]), 1.5), /topK: k must be an integer >= 1, got 1.5/);
  assert.throws(() => topK(tensor(1), 1), /topK: logits must have a vocab axis, got a scalar/);
});

Deno.test("topP keeps the smallest nucleus reaching p", () => {
  const I = -Infinity;
  const p = [0.5, 0.3, 0.15, 0.05];
  const logits = tensor(p.map(Math.log));
  const kept = (q: number) => [...topP(logits, q).data].map((v) => v !== I);
  // 0.5 + 0.3 = 0.8 (rounds to 0.7999999999999999 from softmax; the slack absorbs it)
  assert.deepEqual(kept(0.8), [true, true, false, false]);
  assert.deepEqual([...topP(logits, 0.8).data].slice(0, 2), [Math.log(0.5), Math.log(0.3)]);
  assert.deepEqual(kept(0.5), [true, false, false, false]);
  assert.deepEqual(kept(0.01), [true, false, false, false]);
  assert.deepEqual(kept(0.81), [true, true, true, false]);
  assert.deepEqual(kept(0.96), [true, true, true, true]);
  assert.deepEqual(kept(1), [true, true, true, true]);
  // order in the row does not matter, and rows are independent
  const mixed = tensor([0.15, 0.5, 0.05, 0.3, 0.25, 0.25, 0.25, 0.25].map(Math.log), [2, 4]);
  const m = [...topP(mixed, 0.8).data].map((v) => v !== I);
  assert.deepEqual(m, [false, true, false, true, true, true, true, true]);
  // ties ranked by index: p = 0.5 of four equal tokens keeps the first two
  assert.deepEqual([...topP(tensor([0, 0, 0, 0]), 0.5).data], [0, 0, I, I]);
  // f32 logits are ranked by f64 probabilities: an f32 softmax rounds these to
  // [0.09999999, 0.19999999, 0.7 - 1.2e-8], short of 0.7 by more than the slack, which kept index
  // 1 too; the f64 softmax of the same f32 logits is 0.7 + 7.4e-9 for index 2 (numpy), enough.
  const f32 = tensor([0.1, 0.2, 0.7].map(Math.log), [3], "f32");
  assert.deepEqual([...topP(f32, 0.7).data].map((v) => v !== I), [false, false, true]);
  for (const q of [0, -0.5, 1.5, NaN]) {
    assert.throws(
      () => topP(logits, q),
      new RegExp(`^Error: topP: p must be in \\(0, 1\\], got ${q}$`),
    );
  }
});

Deno.test("sampleLogits combines the filters, draws n per row and follows the seed", () => {
  const logits = tensor([2, 1, 0, 0, 1, 2], [2, 3]);
  assert.deepEqual([...sampleLogits(logits, { topK: 1, n: 3, seed: 0 })], [0, 0, 0, 2, 2, 2]);
  // top-p 0.8 of [0.5, 0.3, 0.15, 0.05] leaves [0.5, 0.3] renormalised to [5/8, 3/8]
  const p = tensor([0.5, 0.3, 0.15, 0.05].map(Math.log));
  assertFrequencies(sampleLogits(p, { topP: 0.8, n: N, seed: 1 }), [5, 3, 0, 0]);
  // top-k 3 then top-p 0.9 of the kept [0.5, 0.3, 0.15]/0.95: 0.8/0.95 < 0.9, so all three stay
  assertFrequencies(sampleLogits(p, { topK: 3, topP: 0.9, n: N, seed: 2 }), [0.5, 0.3, 0.15, 0]);
  const same = { temperature: 0.7, topK: 3, topP: 0.9, n: 50 };
  const a = sampleLogits(p, { ...same, seed: 3 });
  assert.deepEqual(a, sampleLogits(p, { ...same, seed: 3 }));
  assert.notDeepEqual(a, sampleLogits(p, { ...same, seed: 4 }));
  // leading axes are flattened into rows: [2, 2, 3] logits give 4 rows of n draws
  const three = sampleLogits(tensor([9, 0, 0, 0, 9, 0, 0, 0, 9, 9, 0, 0], [2, 2, 3]), {
    topK: 1,
    n: 2,
    seed: 5,
  });
  assert.deepEqual([...three], [0, 0, 1, 1, 2, 2, 0, 0]);
  assert.throws(() => sampleLogits(p, {}), /sampleLogits: pass exactly one of seed and rng/);
  assert.throws(
    () => sampleLogits(tensor(1), { seed: 0 }),
    /sampleLogits: logits must have a vocab axis/,
  );
});
