// The pieces of `inspectExample` a person reads off the page: the 0-to-1 patching scale (and where
// it means nothing), and which input an example is patched against.
import * as assert from "node:assert/strict";
import { corruptPartner, restoredFraction } from "../../engine/analysis/inspect.ts";
import { modularTask, ooclTask } from "../../engine/data/mod.ts";

Deno.test("restoredFraction: 0 at the corrupt run's metric, 1 at the clean run's, NaN when they tie", () => {
  const f = restoredFraction(5, 1);
  assert.deepEqual([f(1), f(5), f(3), f(7)], [0, 1, 0.5, 1.5]);
  const flipped = restoredFraction(-2, 2); // a clean run that scores lower: still 0 → 1
  assert.deepEqual([flipped(2), flipped(-2), flipped(0)], [0, 1, 0.5]);
  // An untrained model scores both alike: any fraction would be rounding noise.
  assert.ok(Number.isNaN(restoredFraction(0.3, 0.3 + 1e-13)(0.3)));
  assert.ok(Number.isNaN(restoredFraction(0, 0)(0)));
});

Deno.test("corruptPartner: the next example with another answer, in the same group", () => {
  const p = 5;
  const add = modularTask({ op: "add", p, frac_train: 0.5, data_seed: 0 });
  assert.equal(corruptPartner(add, 1 * p + 2), 1 * p + 3); // (1, 2) → (1, 3)
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
