// A synthetic "grokked" model of (x + y) mod 17 built analytically (logits Σ_k α cos(w_k(x + y − c))
// over key frequencies 3 and 7, neurons made of one frequency's terms, an embedding with a circle
// per key frequency), so every measure has a closed form: restricted loss equals the full loss,
// excluded loss is ln p, and one frequency alone gives the loss of the other's wave, computed
// directly from its p logits.
import * as assert from "node:assert/strict";
import { permutation, Rng, tensor } from "../../engine/tensor/mod.ts";
import { excludedLoss, restrictedLoss } from "../../engine/analysis/restricted_loss.ts";
import { modularMeasures } from "../../engine/analysis/modular_report.ts";
import { assertClose } from "../helpers.ts";

const p = 17;
const KEYS = [3, 7];
const ALPHA = 20;
const N = p * p;
const w = (k: number) => (2 * Math.PI * k) / p;
const xOf = (i: number) => Math.floor(i / p);
const yOf = (i: number) => i % p;
const targets = Int32Array.from({ length: N }, (_, i) => (xOf(i) + yOf(i)) % p);
const rng = new Rng(5);
const order = permutation(N, { rng }).data as Int32Array;
const train = order.slice(0, 90).sort();
const test = order.slice(90).sort();

/** `[N, p]`: α Σ_{k ∈ freqs} cos(w_k(x + y − c)). */
function waveLogits(freqs: number[]) {
  const data = new Float64Array(N * p);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < p; c++) {
      for (const k of freqs) {
        data[i * p + c] = data[i * p + c]! + ALPHA * Math.cos(w(k) * (xOf(i) + yOf(i) - c));
      }
    }
  }
  return tensor(data, [N, p]);
}

/** The loss when the target's logit is α·Σ_k 1 and answer c's is α Σ_k cos(w_k d), d = target − c. */
function closedFormLoss(freqs: number[]): number {
  const logit = (d: number) => freqs.reduce((s, k) => s + ALPHA * Math.cos(w(k) * d), 0);
  let z = 0;
  for (let d = 0; d < p; d++) z += Math.exp(logit(d));
  return Math.log(z) - logit(0);
}

/** `[N, M]`: 2 neurons per key frequency at different phases, the rest noise in (0, 1). */
function neuronActs(M: number) {
  const data = new Float64Array(N * M);
  for (let i = 0; i < N; i++) {
    for (let n = 0; n < M; n++) {
      const k = KEYS[n % 2]!;
      const a = Math.cos(w(k) * xOf(i) + n), b = Math.cos(w(k) * yOf(i) + 2 * n);
      // neurons 0..3 are waves, neuron 0 the cleanest (the others carry a little noise)
      data[i * M + n] = n < 4 ? a + b + a * b + (n < 2 ? 0 : 0.3) * rng.uniform() : rng.uniform();
    }
  }
  return tensor(data, [N, M]);
}

/** `[p + 1, 4]`: radius 2 circle at frequency 3 in dims 0-1, radius 2 at frequency 7 in dims 2-3. */
function circleEmbed() {
  const rows = Array.from({ length: p }, (_, x) => [
    2 * Math.cos(w(3) * x),
    2 * Math.sin(w(3) * x),
    2 * Math.cos(w(7) * x),
    2 * Math.sin(w(7) * x),
  ]);
  return tensor([...rows.flat(), 1, 1, 1, 1], [p + 1, 4]);
}

Deno.test("restricted loss equals the full loss; excluded loss is ln p", () => {
  const logits = waveLogits(KEYS);
  const full = closedFormLoss(KEYS);
  for (const examples of [train, test]) {
    const options = { p, freqs: KEYS, targets, examples };
    assertClose([restrictedLoss(logits, options)], [full], 1e-12, "restricted");
    assertClose([excludedLoss(logits, options)], [Math.log(p)], 1e-12, "excluded");
  }
  assert.ok(full < 0.01 && Math.log(p) > 100 * full, `full ${full} vs ln p ${Math.log(p)}`);
  // a frequency the logits do not use: restricted keeps nothing (uniform), excluded removes nothing
  const other = { p, freqs: [5], targets, examples: train };
  assertClose([restrictedLoss(logits, other)], [Math.log(p)], 1e-12, "restricted to 5");
  assertClose([excludedLoss(logits, other)], [full], 1e-12, "excluding 5");
});

Deno.test("one frequency alone: the loss of the other's wave", () => {
  const logits = waveLogits(KEYS);
  for (const [kept, dropped] of [[3, 7], [7, 3]]) {
    const expected = closedFormLoss([kept!]);
    const options = { p, targets, examples: train };
    assertClose(
      [restrictedLoss(logits, { ...options, freqs: [kept!] })],
      [expected],
      1e-12,
      "kept",
    );
    assertClose(
      [excludedLoss(logits, { ...options, freqs: [dropped!] })],
      [expected],
      1e-12,
      "dropped",
    );
    assert.ok(expected > closedFormLoss(KEYS));
  }
});

Deno.test("restricted loss gives back each answer's mean logit (the paper's bias correction)", () => {
  // Adding b_c to every input's logit c: excluded keeps it, restricted restores it, so both see it
  const bias = Array.from({ length: p }, (_, c) => (c === 0 ? 3 : 0));
  const base = waveLogits(KEYS);
  const shifted = tensor(base.toArray().map((v, j) => v + bias[j % p]!), [N, p]);
  const options = { p, freqs: KEYS, targets, examples: train };
  assertClose(
    [restrictedLoss(shifted, options)],
    [meanLossOf(shifted, train)],
    1e-12,
    "restricted keeps bias",
  );
  const rest = tensor(Array.from({ length: N * p }, (_, j) => bias[j % p]!), [N, p]);
  assertClose(
    [excludedLoss(shifted, options)],
    [meanLossOf(rest, train)],
    1e-12,
    "excluded = bias",
  );
});

Deno.test("bad inputs are refused", () => {
  const logits = waveLogits(KEYS);
  const options = { p, targets, examples: train };
  assert.throws(() => restrictedLoss(logits, { ...options, freqs: [0] }), RangeError);
  assert.throws(() => excludedLoss(logits, { ...options, freqs: [9] }), RangeError);
  assert.throws(
    () => restrictedLoss(tensor([1, 2], [1, 2]), { ...options, freqs: [1] }),
    RangeError,
  );
  assert.throws(() =>
    excludedLoss(logits, { ...options, freqs: [1], examples: new Int32Array(0) })
  );
});

Deno.test("modularMeasures on the synthetic model finds exactly the key frequencies", () => {
  const M = 40;
  const post = neuronActs(M);
  const logits = waveLogits(KEYS);
  const weights = new Map([["embed.W_E", circleEmbed()]]);
  const inputs = { p, logits, post, weights, targets, train };
  const { report, progress } = modularMeasures(inputs);

  assert.deepEqual(report.key_freqs, KEYS);
  assert.deepEqual(report.neuron_freq.slice(0, 4), [3, 7, 3, 7]);
  assertClose(report.neuron_frac.slice(0, 2), [1, 1], 1e-12, "clean wave neurons");
  assert.deepEqual(report.clusters.map((c) => [c.freq, c.size]), [[3, 2], [7, 2]]);
  assertClose([report.restricted_loss], [closedFormLoss(KEYS)], 1e-12, "restricted");
  assertClose([report.excluded_loss], [Math.log(p)], 1e-12, "excluded");
  assert.deepEqual(report.per_freq.map((f) => f.freq), KEYS);
  assertClose(
    report.per_freq.map((f) => f.excluded_loss),
    [closedFormLoss([7]), closedFormLoss([3])],
    1e-12,
    "per-frequency excluded",
  );

  // ‖W_E‖ per frequency: a radius-r circle has r·sqrt(p) (cos and sin each r·sqrt(p/2))
  const norms = report.embed_fourier_norms;
  assert.equal(norms.length, 9);
  assertClose(
    norms,
    norms.map((_, k) => (KEYS.includes(k) ? 2 * Math.sqrt(p) : 0)),
    1e-12,
    "norms",
  );
  // two equal nonzero norms among 8: 2·(7 + 8)/(8 · 2) − 9/8 = 0.75
  assertClose([progress.gini_embed], [0.75], 1e-12, "gini_embed");
  for (const circle of report.circles) {
    const radius = circle.cos.map((c, x) => Math.hypot(c, circle.sin[x]!));
    assertClose(radius, new Array(p).fill(2), 1e-12, `circle ${circle.freq}`);
    // the cos coordinate follows cos(w_k x) (the plane's first axis is the cos direction)
    assertClose(
      circle.cos,
      circle.cos.map((_, x) => 2 * Math.cos(w(circle.freq) * x)),
      1e-12,
      "cos",
    );
  }

  // neurons: round-robin over the key frequencies, best explained first, then the rest
  assert.deepEqual(report.neurons.map((n) => n.neuron).slice(0, 4), [0, 1, 2, 3]);
  assert.equal(report.neurons.length, 6);
  const n5 = report.neurons[5]!;
  assert.deepEqual(n5.acts, Array.from({ length: N }, (_, i) => post.data[i * M + n5.neuron]));
  assert.equal(n5.freq, report.neuron_freq[n5.neuron]);
  assert.equal(modularMeasures(inputs, { neurons: 1 }).report.neurons.length, 1);
});

Deno.test("modularMeasures with the final model's key frequencies passed in", () => {
  const post = neuronActs(8);
  const weights = new Map([["embed.W_E", circleEmbed()]]);
  const inputs = { p, logits: waveLogits(KEYS), post, weights, targets, train };
  const { report } = modularMeasures(inputs, { key_freqs: [7] });
  assert.deepEqual(report.key_freqs, KEYS, "its own key frequencies are still reported");
  assert.deepEqual(report.loss_freqs, [7]);
  assertClose([report.restricted_loss], [closedFormLoss([7])], 1e-12, "restricted to 7");
  assert.deepEqual(report.per_freq.map((f) => f.freq), [7]);
  assert.deepEqual(report.neurons.slice(0, 2).map((n) => n.freq), [7, 7]);
});

/** Mean cross-entropy over `examples`, written out. */
function meanLossOf(logits: ReturnType<typeof tensor>, examples: Int32Array): number {
  let total = 0;
  for (const i of examples) {
    const row = Array.from(logits.toArray().subarray(i * p, (i + 1) * p));
    const top = Math.max(...row);
    const lse = top + Math.log(row.reduce((s, v) => s + Math.exp(v - top), 0));
    total += lse - row[targets[i]!]!;
  }
  return total / examples.length;
}
