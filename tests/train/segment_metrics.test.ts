// The metrics an evaluation writes, worked by hand: pooled losses and accuracies over each split
// whatever the group, each group's own, and the k-weighted objective the optimiser minimises.
import * as assert from "node:assert/strict";
import { type Segment, segmentMetrics } from "../../engine/train/batches.ts";

Deno.test("segmentMetrics: train/loss is pooled, train/objective is Σ k · group mean", () => {
  const seg = (
    group: string,
    split: "train" | "test",
    weight: number,
    start: number,
    end: number,
  ) => ({ group, split, weight, start, end, count: end - start }) satisfies Segment;
  // k1 = 2, k2 = 0, k3 = 1; table1 4 train + 2 test rows, table2 4 + 2, links 2 train.
  const segments = [
    seg("table1", "train", 2, 0, 4),
    seg("table2", "train", 0, 4, 8),
    seg("links", "train", 1, 8, 10),
    seg("table1", "test", 2, 10, 12),
    seg("table2", "test", 0, 12, 14),
  ];
  // [loss sum, correct sum] per segment.
  const sums = [2, 4, 1, 2, 0.5, 2, 3, 1, 4, 0];
  const m = segmentMetrics(segments, sums);
  assert.equal(m["train/loss"], (2 + 1 + 0.5) / 10); // 0.35: every train row alike
  assert.equal(m["train/acc"], (4 + 2 + 2) / 10);
  assert.equal(m["test/loss"], (3 + 4) / 4);
  assert.equal(m["test/acc"], 1 / 4);
  assert.equal(m["train/objective"], 2 * (2 / 4) + 0 * (1 / 4) + 1 * (0.5 / 2)); // 1.25
  assert.equal(m["train/loss_table1"], 0.5);
  assert.equal(m["test/acc_table2"], 0);
  // One group: no per-group keys and no objective (it is train/loss itself).
  const one = segmentMetrics([seg("all", "train", 1, 0, 2), seg("all", "test", 1, 2, 3)], [
    1,
    1,
    3,
    0,
  ]);
  assert.deepEqual(one, { "train/loss": 0.5, "train/acc": 0.5, "test/loss": 3, "test/acc": 0 });
});
