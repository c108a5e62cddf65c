// Where the example grids put each example, checked against the tasks' own tables
// (engine/data builds every example's tokens: the grid must put example i where its tokens say),
// what a cell says on hover, and the arithmetic of the bar and plane views.
import * as assert from "node:assert/strict";
import {
  DEFAULT_OOCL,
  lastTargets,
  modularTask,
  ooclSpecialTokens,
  ooclTask,
} from "../../engine/data/mod.ts";
import type { TaskData } from "../../engine/data/mod.ts";
import { barDomain, orderBars, planePoints } from "../../ui/analysis/geometry.ts";
import {
  analysedStep,
  defaultExample,
  describeExample,
  exampleTables,
} from "../../ui/analysis/grid.ts";

/** The index fields the grid reads, made from a task as `mechlab analyze` would. */
function indexOf(task: TaskData, p: number) {
  const N = lastTargets(task).length;
  const split = Array(N).fill(-1);
  const group = Array(N).fill(-1);
  task.groups.forEach((g, k) => {
    for (const i of g.train) (split[i] = 0, group[i] = k);
    for (const i of g.test) (split[i] = 1, group[i] = k);
  });
  return {
    task: task.task,
    p,
    vocab: task.vocab.labels,
    targets: Array.from(lastTargets(task)),
    split,
    group,
    groups: task.groups.map((g) => g.name),
  };
}

const tokensOf = (task: TaskData, i: number) =>
  Array.from(task.tokens.slice(i * task.n_ctx, (i + 1) * task.n_ctx));

Deno.test("grid: a modular run's cell (x, y) holds the example whose tokens are x, y", () => {
  const p = 7;
  const task = modularTask({ op: "add", p, frac_train: 0.5, data_seed: 0 });
  const [table, ...rest] = exampleTables({ task: "modular", p });
  assert.equal(rest.length, 0);
  assert.deepEqual([table!.rows, table!.cols, table!.examples.length], [p, p, p * p]);
  for (let x = 0; x < p; x++) {
    for (let y = 0; y < p; y++) {
      assert.deepEqual(tokensOf(task, table!.examples[x * p + y]!), [x, y, p]); // [x, y, =]
    }
  }
});

Deno.test("grid: oocl's tables put a cell and its alias twin at the same place; links by direction", () => {
  const p = 5;
  const task = ooclTask({ ...DEFAULT_OOCL, p });
  const s = ooclSpecialTokens(p);
  const [t1, t2, links] = exampleTables({ task: "oocl", p });
  assert.deepEqual([t1!.name, t2!.name, links!.name], ["table1", "table2", "links"]);
  assert.deepEqual([t2!.rowAxis, t2!.colAxis], ["x'", "y'"], "table 2 runs over the aliases");
  for (let x = 0; x < p; x++) {
    for (let y = 0; y < p; y++) {
      assert.deepEqual(tokensOf(task, t1!.examples[x * p + y]!), [s.true, x, y, s.equal]);
      assert.deepEqual(tokensOf(task, t2!.examples[x * p + y]!), [s.true, x + p, y + p, s.equal]);
    }
  }
  for (let i = 0; i < p; i++) {
    const forward = links!.examples[i]!;
    const back = links!.examples[p + i]!;
    assert.deepEqual([tokensOf(task, forward), lastTargets(task)[forward]], [[
      s.define,
      s.define,
      i,
      s.equal,
    ], i + p]);
    assert.deepEqual([tokensOf(task, back), lastTargets(task)[back]], [[
      s.define,
      s.define,
      i + p,
      s.equal,
    ], i]);
  }
});

Deno.test("describeExample: inputs, answer, split; for oocl the alias twin and the links", () => {
  const p = 5;
  const modular = modularTask({ op: "add", p, frac_train: 0.5, data_seed: 0 });
  const mi = indexOf(modular, p);
  const split = (i: number) => (mi.split[i] === 0 ? "train" : "test");
  assert.equal(describeExample(mi, 8), `#8 all (1, 3) → 4, ${split(8)}`); // 1 + 3 = 4
  const oocl = ooclTask({ ...DEFAULT_OOCL, p });
  const oi = indexOf(oocl, p);
  const word = (i: number) => ["train", "test"][oi.split[i]!];
  // ssq: (1² + 3²) mod 5 = 0; the twin is example 25 + 8 = 33, over x'1, x'3, answer x'0.
  assert.equal(
    describeExample(oi, 8),
    `#8 table1 (1, 3) → 0, ${word(8)} · alias (x'1, x'3) → x'0, ${word(33)}`,
  );
  assert.equal(
    describeExample(oi, 33),
    `#33 table2 (x'1, x'3) → x'0, ${word(33)} · alias (1, 3) → 0, ${word(8)}`,
  );
  assert.equal(describeExample(oi, 50 + 2), "#52 links 2 → x'2, train");
  assert.equal(describeExample(oi, 50 + p + 2), "#57 links x'2 → 2, train");
});

Deno.test("defaultExample and analysedStep", () => {
  // p = 3, cells (x, y) at 3x + y: the held-out (0, 1), (1, 1) are uninformative, (1, 2) is not.
  assert.equal(defaultExample({ task: "modular", p: 3, split: [0, 1, 0, 0, 1, 1, 0, 1, 0] }), 5);
  // (2, 1) = #7 would do too; the first in order is taken.
  assert.equal(defaultExample({ task: "modular", p: 3, split: [0, 0, 0, 0, 0, 0, 0, 1, 1] }), 7);
  // No informative one held out: the first held out; none held out: the first.
  assert.equal(defaultExample({ task: "modular", p: 2, split: [0, 0, -1, 1] }), 3);
  assert.equal(defaultExample({ task: "modular", p: 2, split: [0, -1, 0, 0] }), 0);
  // oocl, p = 3: table 2's (1, 2) = #9 + 5 counts; the links (from #18) never do.
  const oocl = Array<number>(24).fill(0);
  oocl[14] = 1;
  oocl[19] = 1;
  assert.equal(defaultExample({ task: "oocl", p: 3, split: oocl }), 14);
  assert.equal(analysedStep([0, 100, 200], 200), 200);
  assert.equal(analysedStep([0, 100, 200], 150), 100); // a checkpoint written after the analysis
  assert.equal(analysedStep([100, 200], 50), 100); // before the first analysed: the first
  assert.equal(analysedStep([0, 100], null), 100);
  assert.equal(analysedStep([], 5), null);
});

Deno.test("bars: model order kept, sorted largest first; the range spans 0", () => {
  const bars = { labels: ["embed", "L0H0", "L0H1", "L0 mlp"], values: [0.5, -1, 3, 0.5] };
  assert.equal(orderBars(bars, "model"), bars);
  assert.deepEqual(orderBars(bars, "sorted"), {
    labels: ["L0H1", "embed", "L0 mlp", "L0H0"], // ties keep model order (a stable sort)
    values: [3, 0.5, 0.5, -1],
  });
  assert.deepEqual(barDomain([2, 5]), [0, 5]);
  assert.deepEqual(barDomain([-3, -1]), [-3, 0]);
  assert.deepEqual(barDomain([0, NaN]), [0, 1]);
});

Deno.test("plane: a circle stays round, centred, its farthest point pad inside the edge", () => {
  const p = 12;
  const angle = (t: number) => (2 * Math.PI * t) / p;
  const cos = Array.from({ length: p }, (_, t) => 3 * Math.cos(angle(t)));
  const sin = Array.from({ length: p }, (_, t) => 3 * Math.sin(angle(t)));
  const points = planePoints(cos, sin, 200, 20);
  for (const [t, [x, y]] of points.entries()) {
    assert.ok(Math.abs(Math.hypot(x - 100, y - 100) - 80) < 1e-9, `token ${t} at radius 80`);
  }
  assert.deepEqual(points[0], [180, 100]); // angle 0: right of the centre
  assert.ok(Math.abs(points[3]![1] - 20) < 1e-9); // angle π/2: up, y = 20 (screen y grows down)
  assert.deepEqual(planePoints([0, 0], [0, 0], 100, 10), [[50, 50], [50, 50]]);
});
