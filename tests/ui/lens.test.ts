// The logit lens's readouts: the hover lines and the stage from which the target stays on top,
// on hand-worked cases.
import * as assert from "node:assert/strict";
import { lensTitles, topFrom } from "../../ui/analysis/lens.ts";

Deno.test("topFrom: the first stage of the final run of rank 0, null when the end is not 0", () => {
  assert.equal(topFrom([7, 0, 0]), 1);
  assert.equal(topFrom([0, 0, 0]), 0);
  assert.equal(topFrom([0, 3, 0]), 2); // a lead lost at stage 1 does not count
  assert.equal(topFrom([0, 0, 2]), null);
  assert.equal(topFrom([]), null);
});

Deno.test("lensTitles: probability, logit (3 significant digits) and rank per stage", () => {
  const lens = {
    labels: ["resid_pre 0", "resid_mid 0", "resid_post 0"],
    target_prob: [0.0123456, 0.5, 0.99987],
    target_logit: [-1.23456, 4, 12.3456],
    target_rank: [17, 1, 0],
  };
  assert.deepEqual(lensTitles(lens), [
    "resid_pre 0: p = 0.0123, logit -1.23, rank 17",
    "resid_mid 0: p = 0.5, logit 4, rank 1",
    "resid_post 0: p = 1, logit 12.3, rank 0",
  ]);
});
