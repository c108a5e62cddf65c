// The out-of-context measures: alias cosines on a hand-made W_E, twin counts and accuracies on
// hand-set splits of p = 2 worked out cell by cell, and on a real p = 7 task against a count made
// from its split.json arrays cell by cell (x, y).
import * as assert from "node:assert/strict";
import { DEFAULT_OOCL, ooclTask } from "../../engine/data/oocl.ts";
import { modularTask } from "../../engine/data/modular.ts";
import { lastTargets } from "../../engine/data/task.ts";
import { tensor } from "../../engine/tensor/mod.ts";
import { ooclProgress, ooclReport } from "../../engine/analysis/oocl_measures.ts";
import { assertClose } from "../helpers.ts";

// p = 2: tokens 0, 1, aliases 2, 3, then =, true, false, define; d_model 3
const W_E = tensor(
  [
    [1, 2, 2], // 0
    [1, 0, 0], // 1
    [2, 4, 4], // x'0: 2 × token 0, cosine 1
    [-1, 1, 0], // x'1: cosine −1/√2 with token 1
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ].flat(),
  [8, 3],
);

Deno.test("alias cosine and twin accuracy on hand-set splits (p = 2)", () => {
  const base = ooclTask({ ...DEFAULT_OOCL, p: 2, holdout1: 0.5, holdout2: 0.5 });
  // table 1 is examples 0..3 (cells (0,0), (0,1), (1,0), (1,1)), table 2 the same cells at 4..7
  const groups = [
    { name: "table1", train: Int32Array.of(1, 2), test: Int32Array.of(0, 3), weight: 1 },
    { name: "table2", train: Int32Array.of(4, 6), test: Int32Array.of(5, 7), weight: 1 },
    base.groups[2]!,
  ];
  const task = { ...base, groups };
  // correct: table 1's cell (0,0) right, (1,1) wrong; table 2's (0,1) wrong, (1,1) right
  const correct = [1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1];
  const report = ooclReport(new Map([["embed.W_E", W_E]]), task, correct);
  assertClose(report.alias_cosine, [1, -Math.SQRT1_2], 1e-15, "alias cosine");
  // table 1: held-out (0,0) has its twin 4 trained, (1,1)'s twin 7 is held out → n 1, acc 1
  // table 2: held-out (0,1) has its twin 1 trained, (1,1)'s twin 3 is held out → n 1, acc 0
  assert.deepEqual(report.twin, [{ table: 1, n: 1, acc: 1 }, { table: 2, n: 1, acc: 0 }]);
  const progress = ooclProgress(report);
  assertClose([progress.alias_alignment], [(1 - Math.SQRT1_2) / 2], 1e-15, "alignment");
  assert.equal(progress.twin_acc, 0.5);
});

Deno.test("twin counts on a p = 7 task against its split.json, cell by cell", () => {
  const p = 7;
  const task = ooclTask({ ...DEFAULT_OOCL, p, holdout1: 0.5, holdout2: 0.7, data_seed: 3 });
  const split = task.split() as Record<string, { train: number[]; test: number[] }>;
  // correct: 1 on every example whose index is a multiple of 3
  const correct = Array.from({ length: lastTargets(task).length }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const expected = [
    { table: 1, from: split.table1!, other: split.table2!, at: 0, twinAt: p * p },
    { table: 2, from: split.table2!, other: split.table1!, at: p * p, twinAt: 0 },
  ].map(({ table, from, other, at, twinAt }) => {
    let n = 0;
    let hits = 0;
    for (let x = 0; x < p; x++) {
      for (let y = 0; y < p; y++) {
        const here = at + x * p + y;
        if (from.test.includes(here) && other.train.includes(twinAt + x * p + y)) {
          n++;
          hits += correct[here]!;
        }
      }
    }
    return { table, n, acc: hits / n };
  });
  const W = tensor(Array.from({ length: (2 * p + 4) * 2 }, (_, i) => i + 1), [2 * p + 4, 2]);
  const report = ooclReport(new Map([["embed.W_E", W]]), task, correct);
  assert.equal(report.twin.length, 2);
  report.twin.forEach((t, j) => {
    assert.equal(t.table, expected[j]!.table);
    assert.equal(t.n, expected[j]!.n);
    assertClose([t.acc], [expected[j]!.acc], 1e-15, `table ${t.table} acc`);
  });
  assert.ok(report.twin.every((t) => t.n > 0));
});

Deno.test("ooclReport refuses a modular task, a wrong correct length and a wrong W_E", () => {
  const task = ooclTask({ ...DEFAULT_OOCL, p: 2, holdout1: 0.5, holdout2: 0.5 });
  const weights = new Map([["embed.W_E", W_E]]);
  const correct = new Array(12).fill(0);
  const modular = modularTask({ op: "add", p: 3, frac_train: 0.5, data_seed: 0 });
  assert.throws(() => ooclReport(weights, modular, correct), /not "oocl"/);
  assert.throws(() => ooclReport(weights, task, [1, 0]), RangeError);
  assert.throws(() => ooclReport(new Map([["embed.W_E", tensor([1, 2], [1, 2])]]), task, correct));
  assert.throws(() => ooclReport(new Map(), task, correct), /embed.W_E/);
  assert.deepEqual(ooclProgress({ alias_cosine: [], twin: [] }), {
    alias_alignment: 0,
    twin_acc: 0,
  });
});
