// Metrics lines to chart lines: which keys are curves (with the oocl per-group keys as the trainer
// writes them), merging live records, and log-safe values on a shared step axis.
import * as assert from "node:assert/strict";
import { type Segment, segmentMetrics } from "../../engine/train/batches.ts";
import {
  applyRecords,
  chartData,
  logSafe,
  mergeRecords,
  metricKeys,
  parseMetricKey,
  positiveSteps,
} from "../../ui/series.ts";
import type { MetricsRecord } from "../../ui/types.ts";

Deno.test("parseMetricKey: split/metric and split/metric_group; other keys are not curves", () => {
  assert.deepEqual(parseMetricKey("train/loss"), {
    key: "train/loss",
    split: "train",
    metric: "loss",
    group: null,
  });
  assert.deepEqual(parseMetricKey("test/acc_table2"), {
    key: "test/acc_table2",
    split: "test",
    metric: "acc",
    group: "table2",
  });
  assert.equal(parseMetricKey("train/loss_links")?.group, "links");
  for (const key of ["step", "lr", "time_s", "train/lossy", "loss", "train/grad_norm"]) {
    assert.equal(parseMetricKey(key), null, key);
  }
});

// The keys of an oocl evaluation as the trainer makes them: segments of table1, table2 and links
// (links have no test examples), sums of loss and correct per segment.
function ooclLine(step: number): MetricsRecord {
  const seg = (group: string, split: "train" | "test", start: number, end: number): Segment => ({
    group,
    split,
    weight: 1,
    start,
    end,
    count: end - start,
  });
  const segments = [
    seg("table1", "train", 0, 4),
    seg("table2", "train", 4, 8),
    seg("links", "train", 8, 10),
    seg("table1", "test", 10, 12),
    seg("table2", "test", 12, 14),
  ];
  const sums = [2, 4, 1, 2, 0.5, 2, 3, 1, 4, 0];
  return { step, lr: 1e-3, ...segmentMetrics(segments, sums) } as MetricsRecord;
}

Deno.test("metricKeys: the oocl keys the trainer writes, pooled first, train before test", () => {
  const line = ooclLine(0);
  assert.deepEqual(metricKeys([line], "loss").map((k) => k.key), [
    "train/loss",
    "test/loss",
    "train/loss_links",
    "train/loss_table1",
    "test/loss_table1",
    "train/loss_table2",
    "test/loss_table2",
  ]);
  assert.deepEqual(metricKeys([line], "acc").map((k) => k.key), [
    "train/acc",
    "test/acc",
    "train/acc_links",
    "train/acc_table1",
    "test/acc_table1",
    "train/acc_table2",
    "test/acc_table2",
  ]);
});

Deno.test("metricKeys: a key that first appears in a later line is found", () => {
  const keys = metricKeys([{ step: 0, "train/loss": 1 }, { step: 1, "test/loss": 2 }], "loss");
  assert.deepEqual(keys.map((k) => k.key), ["train/loss", "test/loss"]);
});

Deno.test("logSafe: positive finite values only", () => {
  assert.equal(logSafe(2.5), 2.5);
  assert.equal(logSafe(1e-30), 1e-30);
  for (const v of [0, -0, -1, NaN, Infinity, null, undefined]) assert.equal(logSafe(v), null);
});

Deno.test("chartData: two runs on the union of their steps; loss 0, negative and NaN become gaps", () => {
  const a = [
    { step: 0, "train/loss": 3, "test/loss": 3.5, "train/acc": 0, "test/acc": 0.25 },
    { step: 100, "train/loss": 0, "test/loss": -1, "train/acc": 1, "test/acc": null },
    { step: 200, "train/loss": 1e-4, "test/loss": 0.5, "train/acc": 1, "test/acc": 0.9 },
  ];
  const b = [{ step: 50, "train/loss": 2, "train/acc": 0.5 }];
  const loss = chartData([{ name: "a", records: a }, { name: "b", records: b }], "loss");
  assert.deepEqual(loss.steps, [0, 50, 100, 200]);
  assert.deepEqual(loss.lines.map((l) => `${l.run} ${l.key}`), [
    "a train/loss",
    "a test/loss",
    "b train/loss",
  ]);
  assert.deepEqual(loss.values, [
    [3, null, null, 1e-4],
    [3.5, null, null, 0.5],
    [null, 2, null, null],
  ]);
  const acc = chartData([{ name: "a", records: a }, { name: "b", records: b }], "acc");
  assert.deepEqual(acc.values, [
    [0, null, 1, 1], // accuracy 0 is a value, not a gap
    [0.25, null, null, 0.9],
    [null, 0.5, null, null],
  ]);
});

Deno.test("chartData: a curve with no value a log axis can show is left out", () => {
  const d = chartData(
    [{ name: "a", records: [{ step: 0, "train/loss": 0, "test/loss": 1 }] }],
    "loss",
  );
  assert.deepEqual(d.lines.map((l) => l.key), ["test/loss"]);
  assert.deepEqual(chartData([], "loss"), { steps: [], lines: [], values: [] });
});

Deno.test("chartData: an oocl run charts every group's curve", () => {
  const d = chartData([{ name: "o", records: [ooclLine(0), ooclLine(500)] }], "acc");
  assert.equal(d.lines.length, 7);
  const t1 = d.lines.findIndex((l) => l.key === "test/acc_table1");
  assert.deepEqual(d.values[t1], [0.5, 0.5]); // 1 correct of the 2 test examples of table 1
});

Deno.test("mergeRecords: live lines append; a resent step replaces; disorder is sorted", () => {
  const r = (step: number, loss: number): MetricsRecord => ({ step, "train/loss": loss });
  assert.deepEqual(mergeRecords([r(0, 3), r(50, 2)], [r(100, 1), r(150, 0.5)]), [
    r(0, 3),
    r(50, 2),
    r(100, 1),
    r(150, 0.5),
  ]);
  assert.deepEqual(mergeRecords([r(0, 3), r(50, 2), r(100, 1)], [r(0, 3), r(50, 1.5)]), [
    r(0, 3),
    r(50, 1.5),
    r(100, 1),
  ]);
  assert.deepEqual(mergeRecords([], [r(50, 2), r(0, 3), r(50, 1)]), [r(0, 3), r(50, 1)]);
  assert.deepEqual(mergeRecords([r(0, 3)], []), [r(0, 3)]);
});

Deno.test("applyRecords: a file sent again from its start replaces the lines held", () => {
  const r = (step: number, loss: number) => ({ step, "train/loss": loss });
  // --resume cut a 0..1000 file back to 0..500 and the server resent it whole.
  const held = [0, 200, 400, 600, 800, 1000].map((s) => r(s, 1));
  assert.deepEqual(applyRecords(held, [r(0, 2), r(250, 2), r(500, 2)]), [
    r(0, 2),
    r(250, 2),
    r(500, 2),
  ]);
  // Live lines after the last held one are appended, as before.
  assert.deepEqual(applyRecords([r(0, 1)], [r(50, 1)]), [r(0, 1), r(50, 1)]);
  assert.deepEqual(applyRecords([], [r(0, 1)]), [r(0, 1)]);
});

Deno.test("positiveSteps: a log step axis drops step 0 from the steps and every line", () => {
  const d = chartData([{
    name: "a",
    records: [{ step: 0, "train/loss": 3 }, { step: 50, "train/loss": 1 }],
  }], "loss");
  assert.deepEqual(positiveSteps(d), { steps: [50], lines: d.lines, values: [[1]] });
});
