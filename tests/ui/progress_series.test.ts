// The progress chart's data: lines of the measures present, null where a log axis cannot go, the
// phase bands as data (each phase's steps hold the step its band ends at) and the slider's rule.
import * as assert from "node:assert/strict";
import {
  addSteps,
  phaseBands,
  PROGRESS_CHARTS,
  progressLines,
  stepMarker,
} from "../../ui/analysis/progress_series.ts";
import type { ProgressRow } from "../../ui/types.ts";

const row = (step: number, extra: Partial<ProgressRow>): ProgressRow => ({
  step,
  train_loss: 1,
  test_loss: 2,
  train_acc: 0.5,
  test_acc: 0.25,
  sum_sq_weights: 100,
  decomposition_error: 0,
  ...extra,
});

Deno.test("progressLines: sorted by step; absent measures left out, partial ones null", () => {
  const rows = [row(200, { restricted_loss: 0.1 }), row(0, { train_loss: 0 }), row(100, {})];
  assert.deepEqual(progressLines(rows, PROGRESS_CHARTS.loss, true), {
    steps: [0, 100, 200],
    lines: [
      { key: "train_loss", values: [null, 1, 1] }, // 0 has no place on a log axis
      { key: "test_loss", values: [2, 2, 2] },
      { key: "restricted_loss", values: [null, null, 0.1] },
    ],
  });
  assert.deepEqual(progressLines(rows, ["train_loss"], false).lines[0]!.values, [0, 1, 1]);
  assert.deepEqual(progressLines([row(0, { test_acc: NaN })], ["test_acc"], false).lines, [
    { key: "test_acc", values: [null] },
  ]);
});

Deno.test("phaseBands: each phase's steps hold its end; the last phase includes its end", () => {
  const phases = [
    { name: "memorisation" as const, from: 0, to: 100 },
    { name: "circuit formation" as const, from: 100, to: 300 },
    { name: "cleanup" as const, from: 300, to: 400 },
  ];
  assert.deepEqual(phaseBands([0, 50, 100, 200, 300, 400, 500], phases), [
    [100, 100, null, null, null, null, null],
    [null, null, 300, 300, null, null, null],
    [null, null, null, null, 400, 400, null], // 500: after the cleanup, in no phase
  ]);
  assert.deepEqual(phaseBands([0, 100], []), []);
});

Deno.test("stepMarker: non-null only at the shown step", () => {
  assert.deepEqual(stepMarker([0, 100, 200], 200), [null, null, 1]);
  assert.deepEqual(stepMarker([0, 100], null), [null, null]);
});

Deno.test("addSteps: a phase boundary between analysed checkpoints gets its own step, null lines", () => {
  const lines = { steps: [0, 100], lines: [{ key: "test_loss" as const, values: [2, 1] }] };
  const more = addSteps(lines, [50, 100, 150]);
  assert.deepEqual(more, {
    steps: [0, 50, 100, 150],
    lines: [{ key: "test_loss", values: [2, null, 1, null] }],
  });
  // The band of a phase 50–150 now has steps to start and end at.
  assert.deepEqual(phaseBands(more.steps, [{ name: "cleanup", from: 50, to: 150 }]), [
    [null, 150, 150, 150],
  ]);
});
