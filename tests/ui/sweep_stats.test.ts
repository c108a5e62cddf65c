// The sweep page's statistics and cells, against values worked by hand.
import * as assert from "node:assert/strict";
import { band, median, quantile, spread } from "../../ui/sweep/stats.ts";
import { cells, chooseAxes, formatSteps } from "../../ui/sweep/cells.ts";
import type { SweepDetail, SweepMemberRow } from "../../ui/types.ts";

Deno.test("sweep stats: quantiles interpolate, never (Infinity) sorts last and stays never", () => {
  assert.equal(median([300, 100, 200]), 200);
  assert.equal(median([100, 200]), 150);
  // [100, 200, 300, 400]: q 0.25 sits at index 0.75, between 100 and 200.
  assert.equal(quantile([400, 100, 300, 200], 0.25), 175);
  assert.equal(quantile([400, 100, 300, 200], 0.75), 325);
  assert.equal(median([200, Infinity, 400]), 400);
  assert.equal(median([Infinity, 300, Infinity]), Infinity);
  assert.equal(median([100, Infinity]), Infinity); // half never: never
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(spread([100, 100, 400]), { min: 100, q1: 100, median: 100, q3: 250, max: 400 });
});

Deno.test("sweep stats: a band is the median and range of the curves having each step", () => {
  const b = band([
    [[0, 0.1], [100, 0.5], [200, null]],
    [[0, 0.3], [100, 1], [200, 0.9]],
    [[0, 0.2]],
  ]);
  assert.deepEqual(b, {
    steps: [0, 100, 200],
    median: [0.2, 0.75, 0.9],
    min: [0.1, 0.5, 0.9],
    max: [0.3, 1, 0.9],
  });
});

Deno.test("sweep cells: axes chosen, others held, members grouped, never and waiting counted", () => {
  const axes = [
    { key: "lr", values: [0.001] },
    { key: "wd", values: [0.3, 1] },
    { key: "frac", values: [0.3, 0.5] },
    { key: "beta1", values: [0.9, 0.8] },
  ];
  assert.deepEqual(chooseAxes(axes), { x: "wd", y: "frac", fixed: { beta1: 0.9, lr: 0.001 } });
  assert.deepEqual(chooseAxes(axes, { x: "beta1", y: "beta1", fixed: { wd: 1, frac: 7 } }), {
    x: "beta1",
    y: "wd",
    fixed: { lr: 0.001, frac: 0.3 },
  });
  assert.deepEqual(chooseAxes([]), { x: null, y: null, fixed: {} });

  const member = (
    values: Record<string, number>,
    reached: number | null | undefined,
  ): SweepMemberRow => ({
    name: JSON.stringify(values),
    run: `s/${JSON.stringify(values)}`,
    values,
    status: reached === undefined ? "absent" : "done",
    outcome: reached === undefined
      ? null
      : { reached, step: 400, trainLoss: 0.1, testLoss: 0.2, testAcc: 0.5 },
    curve: [],
  });
  const detail: SweepDetail = {
    name: "s",
    preset: "smoke",
    seeds: 2,
    axes: [{ key: "wd", values: [0.3, 1] }, { key: "frac", values: [0.3, 0.5] }],
    members: [
      member({ wd: 0.3, frac: 0.3, seed: 0 }, 100),
      member({ wd: 0.3, frac: 0.3, seed: 1 }, 300),
      member({ wd: 1, frac: 0.3, seed: 0 }, null),
      member({ wd: 1, frac: 0.3, seed: 1 }, undefined),
      member({ wd: 0.3, frac: 0.5, seed: 0 }, 50),
    ],
  };
  const grid = cells(detail, chooseAxes(detail.axes));
  assert.deepEqual(grid.map((row) => row.map((c) => [c.x, c.y])), [
    [[0.3, 0.3], [1, 0.3]],
    [[0.3, 0.5], [1, 0.5]],
  ]);
  const [[a, b], [c, d]] = grid as [[typeof grid[0][0], typeof grid[0][0]], typeof grid[0]];
  assert.deepEqual(a.steps, [100, 300]);
  assert.equal(a.spread.median, 200);
  assert.deepEqual([b.steps, b.never, b.waiting, b.spread.median], [[Infinity], 1, 1, Infinity]);
  assert.deepEqual(c!.steps, [50]);
  assert.equal(d!.members.length, 0);
  assert.ok(Number.isNaN(d!.spread.median));
  assert.deepEqual([formatSteps(200), formatSteps(Infinity), formatSteps(NaN)], [
    "200",
    "never",
    "–",
  ]);
});
