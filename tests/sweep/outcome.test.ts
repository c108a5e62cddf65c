// A member's outcome from its metrics lines, hand-worked: the first step at or over the threshold,
// never when no line reaches it, and the last line's losses.
import * as assert from "node:assert/strict";
import { memberOutcome } from "../../engine/sweep/mod.ts";

Deno.test("memberOutcome: the first step test accuracy reaches 0.99, and the last losses", () => {
  const lines = [
    { step: 0, "train/loss": 3.2, "test/loss": 3.2, "test/acc": 0.04 },
    { step: 10, "train/loss": 0.5, "test/loss": 4, "test/acc": 0.989 },
    { step: 20, "train/loss": 0.01, "test/loss": 0.05, "test/acc": 0.99 },
    { step: 30, "train/loss": 0.02, "test/loss": 0.3, "test/acc": 0.95 }, // a spike after
    { step: 35, "train/loss": 0.001, "test/loss": 0.004, "test/acc": 1 },
  ];
  assert.deepEqual(memberOutcome(lines), {
    reached: 20,
    step: 35,
    trainLoss: 0.001,
    testLoss: 0.004,
    testAcc: 1,
  });
  assert.equal(memberOutcome(lines.slice(0, 2))?.reached, null, "never");
  assert.equal(memberOutcome(lines, 0.5)?.reached, 10);
  assert.equal(memberOutcome(lines, 0.01)?.reached, 0);
  assert.equal(memberOutcome([]), undefined);
});
