// The head circuits' spectrum summaries: effective rank against values worked out by hand
// (entropy in powers of ln 2), and the log scale's floor.
import * as assert from "node:assert/strict";
import { colourAt } from "../../ui/analysis/colour_scale.ts";
import { effectiveRank, spectrumScale } from "../../ui/analysis/spectrum.ts";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

Deno.test("effectiveRank: exp of the entropy of the normalised singular values", () => {
  close(effectiveRank([5, 0, 0]), 1); // one direction carries everything
  close(effectiveRank([1, 1, 1, 1]), 4);
  // [2, 1, 1] → q = [1/2, 1/4, 1/4]: H = (1/2)ln2 + 2(1/4)(2 ln2) = 1.5 ln2 → 2^1.5
  close(effectiveRank([2, 1, 1]), 2 ** 1.5);
  // [4, 2, 1, 1] → q = [1/2, 1/4, 1/8, 1/8]: H = (1/2 + 1/2 + 3/4) ln2 → 2^1.75
  close(effectiveRank([4, 2, 1, 1]), 2 ** 1.75);
  close(effectiveRank([3, 3, 0, 0]), 2); // trailing zeros add nothing
  assert.equal(effectiveRank([0, 0]), 0);
  assert.equal(effectiveRank([]), 0);
});

Deno.test("spectrumScale: log, from the largest value down three decades (or as asked)", () => {
  const s = spectrumScale("σ", [20, 0.5, 1e-9]);
  assert.equal(s.log, true);
  assert.equal(s.max, 20);
  close(s.min, 0.02);
  close(spectrumScale("σ", [20, 1], { decades: 2 }).min, 0.2);
  // The top value is viridis's yellow; the floor and anything under it the darkest colour.
  assert.deepEqual(colourAt(s, 20), [253, 231, 37]);
  assert.deepEqual(colourAt(s, 0.02), [68, 1, 84]);
  assert.deepEqual(colourAt(s, 1e-9), [68, 1, 84]);
  // Halfway in log10 (0.02·10^1.5 ≈ 0.632): the middle stop.
  assert.deepEqual(colourAt(s, 0.02 * 10 ** 1.5), [33, 144, 141]);
  const zero = spectrumScale("σ", [0, 0]);
  assert.deepEqual([zero.min, zero.max], [1e-3, 1]);
});
