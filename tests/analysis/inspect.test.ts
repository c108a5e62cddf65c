// The pieces of `inspectExample` a person reads off the page: the 0-to-1 patching scale (and where
// it means nothing), and which input an example is patched against.
import * as assert from "node:assert/strict";
import { corruptPartner, restoredFraction } from "../../engine/analysis/inspect.ts";
import { partnerProblem } from "../../engine/analysis/partner.ts";
import { lastTargets, modularTask, ooclTask } from "../../engine/data/mod.ts";

Deno.test("restoredFraction: 0 at the corrupt run's metric, 1 at the clean run's, NaN when they tie", () => {
  const f = restoredFraction(5, 1);
  assert.deepEqual([f(1), f(5), f(3), f(7)], [0, 1, 0.5, 1.5]);
  const flipped = restoredFraction(-2, 2); // a clean run that scores lower: still 0 → 1
  assert.deepEqual([flipped(2), flipped(-2), flipped(0)], [0, 1, 0.5]);
  // An untrained model scores both alike: any fraction would be rounding noise.
  assert.ok(Number.isNaN(restoredFraction(0.3, 0.3 + 1e-13)(0.3)));
  assert.ok(Number.isNaN(restoredFraction(0, 0)(0)));
});

Deno.test("corruptPartner: the next example with another answer and another x and y, in the same group", () => {
  const p = 5;
  const add = modularTask({ op: "add", p, frac_train: 0.5, data_seed: 0 });
  // (1, 2) → 3: (1, 3) and (1, 4) keep x; (2, 0) → 2 changes both.
  assert.equal(corruptPartner(add, 1 * p + 2), 2 * p + 0);
  // (1, 1) → 2: (2, 0) answers 2 too, (2, 1) keeps y; (2, 2) → 4.
  assert.equal(corruptPartner(add, 1 * p + 1), 2 * p + 2);
  assert.equal(corruptPartner(add, 1 * p + 4), 2 * p + 0); // (1, 4) → (2, 0): answers 0 → 2
  assert.equal(corruptPartner(add, p * p - 1), 0); // the last wraps to the first: 3 → 0
  // mul: row x = 0 answers 0 throughout, so (0, y) skips to (1, 1), the first other answer.
  const mul = modularTask({ op: "mul", p, frac_train: 0.5, data_seed: 0 });
  assert.equal(corruptPartner(mul, 2), p + 1);
  // oocl: a table-1 cell's partner stays in table 1, a link's among the links.
  const oocl = ooclTask({
    op: "ssq",
    p,
    holdout1: 0.5,
    holdout2: 0.5,
    k1: 1,
    k2: 1,
    k3: 1,
    data_seed: 0,
    symmetric_holdout: false,
  });
  const links = 2 * p * p;
  assert.ok(corruptPartner(oocl, 3) < p * p);
  const link = corruptPartner(oocl, links + 1);
  assert.ok(link >= links, `link partner ${link}`);
});

Deno.test("partnerProblem: an example of the task, not the same one, with another answer", () => {
  const p = 5;
  const add = modularTask({ op: "add", p, frac_train: 0.5, data_seed: 0 });
  assert.equal(partnerProblem(lastTargets(add), 7, 10), null); // (1, 2) → 3 against (2, 0) → 2
  assert.equal(partnerProblem(lastTargets(add), 7, 8), null); // (1, 3): one token apart is allowed when asked
  assert.equal(
    partnerProblem(lastTargets(add), 7, 11), // (2, 1) → 3
    "partner 11 has the same answer as example 7 (3): patching needs another",
  );
  assert.equal(
    partnerProblem(lastTargets(add), 7, 7),
    "partner 7 is the example itself: pick another",
  );
  for (const bad of [25, -1, 1.5]) {
    assert.equal(
      partnerProblem(lastTargets(add), 7, bad),
      `partner ${bad}: the task has 25 examples (0 to 24)`,
    );
  }
});
