// Tick placement of the analysis views' bar charts and heatmaps, worked by hand: which of n cells
// get a label at a cell size (every one when they fit, else a round stride, and always the last),
// and round values of a linear axis.
import * as assert from "node:assert/strict";
import { indexTicks, valueTicks } from "../../ui/analysis/ticks.ts";

Deno.test("indexTicks: every cell when labels fit, else a stride of 1, 2, 5 × 10^k", () => {
  assert.deepEqual(indexTicks(5, 30, 20), [0, 1, 2, 3, 4]);
  // 2 px cells, 24 px labels: strides of 10 (20 px) crowd, 20 (40 px) fit; 112 is 24 px from 100.
  assert.deepEqual(indexTicks(113, 2, 24), [0, 20, 40, 60, 80, 100, 112]);
  // 5 px cells: a stride of 5 (25 px); 110 is 10 px from 112 and goes.
  const at5 = indexTicks(113, 5, 24);
  assert.deepEqual(at5.slice(0, 3), [0, 5, 10]);
  assert.deepEqual(at5.slice(-3), [100, 105, 112]);
  assert.equal(at5.length, 23);
  assert.deepEqual(indexTicks(23, 4, 24), [0, 10, 22]); // 20 is 8 px from 22: dropped
});

Deno.test("indexTicks: the ends of small and empty axes", () => {
  assert.deepEqual(indexTicks(1, 1, 24), [0]);
  assert.deepEqual(indexTicks(3, 1, 100), [0, 2]); // the stride passes n: the first and the last
  assert.deepEqual(indexTicks(0, 10, 10), []);
});

Deno.test("valueTicks: round steps within the range, at most count", () => {
  assert.deepEqual(valueTicks(0, 1, 5), [0, 0.5, 1]); // 0.2 would give 6
  assert.deepEqual(valueTicks(0, 1, 6), [0, 0.2, 0.4, 0.6, 0.8, 1]); // exact decimals, not 0.6000001
  assert.deepEqual(valueTicks(-1.3, 3.7, 6), [-1, 0, 1, 2, 3]);
  assert.deepEqual(valueTicks(0, 37, 5), [0, 10, 20, 30]);
  assert.deepEqual(valueTicks(0, 0.0034, 5), [0, 0.001, 0.002, 0.003]);
  assert.deepEqual(valueTicks(0, 1, 0), [0, 1]); // at least two
  assert.deepEqual(valueTicks(1, 1, 5), []); // no range
});
