// The grokking paper's progress measures against hand-worked cases and against a numpy
// reimplementation of its released code's definitions (fixtures/make_grokking_measures.py) on
// random inputs for p = 7 and p = 8 (even p: frequency 4 has only its cosine). Tolerance 1e-10
// for every float compared with the fixture; frequencies and cluster sizes exactly.
import * as assert from "node:assert/strict";
import { type Tensor, tensor } from "../../engine/tensor/mod.ts";
import { gini, sumSquaredWeights } from "../../engine/analysis/scalars.ts";
import { embeddingCircles, embedFourierNorms } from "../../engine/analysis/embed_fourier.ts";
import {
  keyFrequencies,
  neuronClusters,
  neuronFrequencies,
} from "../../engine/analysis/neuron_freqs.ts";
import { modularMeasures } from "../../engine/analysis/modular_report.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";

interface MeasuresCase {
  p: number;
  inputs: {
    logits: FixtureArray;
    post: FixtureArray;
    W_E: FixtureArray;
    W_U: FixtureArray;
    targets: number[];
    train: number[];
  };
  sum_sq_weights: number;
  embed_fourier_norms: number[];
  neuron_freq: number[];
  neuron_frac: number[];
  neuron_norms: number[];
  clusters: { freq: number; size: number; frac_explained: number }[];
  key_freqs: number[];
  restricted_loss: number;
  excluded_loss: number;
  per_freq: { freq: number; restricted_loss: number; excluded_loss: number }[];
  circles: { freq: number; cos: number[]; sin: number[] }[];
  gini_embed: number;
  gini_neurons: number;
}
interface MeasuresFixture {
  p7: MeasuresCase;
  p8: MeasuresCase;
  gini: { values: number[]; gini: number }[];
}
const fixture = await loadFixture<MeasuresFixture>("grokking_measures");
const TOL = 1e-10;

function weightsOf(c: MeasuresCase): Map<string, Tensor> {
  return new Map([["embed.W_E", fromFixture(c.inputs.W_E)], [
    "unembed.W_U",
    fromFixture(c.inputs.W_U),
  ]]);
}

Deno.test("gini: hand cases and the pairwise formula", () => {
  assert.equal(gini([2, 2, 2]), 0);
  assert.equal(gini([]), 0);
  assert.equal(gini([0, 0]), 0);
  assertClose([gini([0, 0, 0, 5])], [0.75], 1e-15, "one of four nonzero: (n-1)/n");
  assertClose([gini([1, 3])], [0.25], 1e-15, "|1-3|·2 / (2·2·4)");
  assertClose([gini([3, 0, 1, 2])], [5 / 12], 1e-15, "Σ_ij |xi − xj| = 20 over 2·4·6 = 48");
  assert.throws(() => gini([1, -1]), RangeError);
  for (const { values, gini: expected } of fixture.gini) {
    assertClose([gini(values)], [expected], 1e-13, `gini of ${values.length} values`);
  }
});

Deno.test("sumSquaredWeights sums every tensor", () => {
  assert.equal(sumSquaredWeights(new Map([["a", tensor([1, -2], [2])], ["b", tensor([3])]])), 14);
  for (const c of [fixture.p7, fixture.p8]) {
    assertClose([sumSquaredWeights(weightsOf(c))], [c.sum_sq_weights], 1e-9, `p ${c.p}`);
  }
});

Deno.test("embedFourierNorms: a cosine wave of frequency k has all its norm at k", () => {
  const p = 11;
  for (const k of [1, 3, 5]) {
    // W_E[x] = cos(w_k x + 0.3) · u for tokens 0..p-1, u = (1, 2, -2) of norm 3; "=" row arbitrary
    const u = [1, 2, -2];
    const rows = Array.from(
      { length: p },
      (_, x) => u.map((v) => v * Math.cos((2 * Math.PI * k * x) / p + 0.3)),
    );
    const W_E = tensor([...rows.flat(), 7, 7, 7], [p + 1, 3]);
    const norms = embedFourierNorms(new Map([["embed.W_E", W_E]]), p);
    assert.equal(norms.length, 6);
    // ‖cos(w x + φ)‖² over p points is p/2, so the norm is 3 · sqrt(p/2)
    const expected = norms.map((_, j) => (j === k ? 3 * Math.sqrt(p / 2) : 0));
    assertClose(norms, expected, 1e-12, `frequency ${k}`);
  }
});

Deno.test("neuronFrequencies: a neuron made of frequency k's terms is all k; a dead one is 0", () => {
  const p = 13;
  const w = (2 * Math.PI * 4) / p;
  const acts: number[] = [];
  for (let i = 0; i < p * p; i++) {
    const x = Math.floor(i / p);
    const y = i % p;
    const a = Math.cos(w * x + 1), b = Math.sin(w * y);
    // neuron 0: linear and product terms of frequency 4; neuron 1: dead; neuron 2: constant 3;
    // neuron 3: half its variance (by squares) on frequency 2, half on frequency 6
    const half = Math.cos((2 * Math.PI * 2 * x) / p) + Math.cos((2 * Math.PI * 6 * y) / p);
    acts.push(a + b + 2 * a * b, 0, 3, half);
  }
  const { freq, frac, norms } = neuronFrequencies(tensor(acts, [p * p, 4]), p);
  assert.deepEqual(freq.slice(0, 3), [4, 0, 0]);
  assert.ok([2, 6].includes(freq[3]!));
  assertClose(frac, [1, 0, 0, 0.5], 1e-12, "fractions explained");
  assert.equal(norms.length, 7);
  // norms[0]: p · mean per neuron; neuron 0's waves and neuron 3's average to 0, neuron 2's is 3
  assertClose([norms[0]!], [3 * p], 1e-9, "constant terms");
});

Deno.test("clusters and key frequencies: threshold 0.85 and at least 1% of the neurons", () => {
  const neurons = { freq: [5, 5, 9, 9, 9, 2, 0], frac: [0.9, 0.86, 0.99, 0.95, 0.5, 0.84, 0] };
  assert.deepEqual(neuronClusters(neurons), [
    { freq: 5, size: 2, frac_explained: 0.88 },
    { freq: 9, size: 2, frac_explained: 0.97 },
  ]);
  assert.deepEqual(keyFrequencies(neurons), [5, 9]);
  assert.deepEqual(keyFrequencies(neurons, { threshold: 0.89 }), [5, 9]);
  assert.deepEqual(keyFrequencies(neurons, { threshold: 0.96 }), [9]);
  assert.deepEqual(keyFrequencies(neurons, { minNeurons: 3 }), []);
  // 200 neurons: a frequency needs ⌈200/100⌉ = 2 of them
  const many = { freq: [...neurons.freq, ...new Array(193).fill(0)], frac: [...neurons.frac] };
  many.frac.push(...new Array(193).fill(0));
  many.freq[6] = 2;
  many.frac[6] = 0.9;
  assert.deepEqual(keyFrequencies(many), [5, 9]);
});

Deno.test("embeddingCircles: a circle of radius 2 in a tilted plane, with another frequency beside", () => {
  const p = 9;
  // Orthonormal u, v, t in R^3; W_E[x] = 2(cos(w_2 x) u + sin(w_2 x) v) + cos(w_3 x) t + offset
  const s = Math.SQRT1_2;
  const u = [s, s, 0], v = [0, 0, 1], t = [s, -s, 0];
  const rows = Array.from({ length: p }, (_, x) => {
    const c2 = Math.cos((4 * Math.PI * x) / p), s2 = Math.sin((4 * Math.PI * x) / p);
    const c3 = Math.cos((6 * Math.PI * x) / p);
    return [0, 1, 2].map((d) => 2 * (c2 * u[d]! + s2 * v[d]!) + c3 * t[d]! + 5);
  });
  const W_E = tensor([...rows.flat(), 0, 0, 0], [p + 1, 3]);
  const [circle, other] = embeddingCircles(new Map([["embed.W_E", W_E]]), p, [2, 3]);
  const angles = Array.from({ length: p }, (_, x) => (4 * Math.PI * x) / p);
  assertClose(circle!.cos, angles.map((a) => 2 * Math.cos(a)), 1e-12, "cos coordinate");
  assertClose(circle!.sin, angles.map((a) => 2 * Math.sin(a)), 1e-12, "sin coordinate");
  // frequency 3 has no sine: its cos coordinate is the wave, its sin coordinate 0
  assertClose(other!.cos, angles.map((_, x) => Math.cos((6 * Math.PI * x) / p)), 1e-12, "f3 cos");
  assertClose(other!.sin, new Array(p).fill(0), 1e-12, "f3 sin");
  assert.throws(() => embeddingCircles(new Map([["embed.W_E", W_E]]), p, [0]), RangeError);
});

for (const key of ["p7", "p8"] as const) {
  Deno.test(`against numpy (the paper's definitions), ${key}`, () => {
    const c = fixture[key];
    const p = c.p;
    const post = fromFixture(c.inputs.post);
    const weights = weightsOf(c);
    assertClose(embedFourierNorms(weights, p), c.embed_fourier_norms, TOL, "embed norms");
    const neurons = neuronFrequencies(post, p);
    assert.deepEqual(neurons.freq, c.neuron_freq);
    assertClose(neurons.frac, c.neuron_frac, TOL, "neuron frac");
    assertClose(neurons.norms, c.neuron_norms, TOL, "neuron norms");

    const { report, progress } = modularMeasures({
      p,
      logits: fromFixture(c.inputs.logits),
      post,
      weights,
      targets: Int32Array.from(c.inputs.targets),
      train: Int32Array.from(c.inputs.train),
    });
    assert.deepEqual(report.key_freqs, c.key_freqs);
    assert.deepEqual(progress.key_freqs, c.key_freqs);
    assert.deepEqual(
      report.clusters.map((k) => [k.freq, k.size]),
      c.clusters.map((k) => [k.freq, k.size]),
    );
    assertClose(
      report.clusters.map((k) => k.frac_explained),
      c.clusters.map((k) => k.frac_explained),
      TOL,
      "cluster frac",
    );
    assertClose(
      [report.restricted_loss, report.excluded_loss],
      [c.restricted_loss, c.excluded_loss],
      TOL,
      "losses",
    );
    assert.deepEqual(report.per_freq.map((f) => f.freq), c.per_freq.map((f) => f.freq));
    assertClose(
      report.per_freq.flatMap((f) => [f.restricted_loss, f.excluded_loss]),
      c.per_freq.flatMap((f) => [f.restricted_loss, f.excluded_loss]),
      TOL,
      "per-frequency losses",
    );
    assert.deepEqual(report.circles.map((f) => f.freq), c.circles.map((f) => f.freq));
    assertClose(
      report.circles.flatMap((f) => [...f.cos, ...f.sin]),
      c.circles.flatMap((f) => [...f.cos, ...f.sin]),
      TOL,
      "circles",
    );
    assertClose(
      [progress.gini_embed, progress.gini_neurons],
      [c.gini_embed, c.gini_neurons],
      TOL,
      "ginis",
    );
    assert.deepEqual(
      [progress.restricted_loss, progress.excluded_loss],
      [report.restricted_loss, report.excluded_loss],
    );
  });
}
