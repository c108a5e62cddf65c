// The phases of grokking read off progress rows or metrics lines: a run shaped like Nanda et al.'s (boundaries
// worked out by hand from the rules), and the runs that skip or never reach a phase.
import * as assert from "node:assert/strict";
import { grokkingPhases, phaseRows, runPhases } from "../../ui/analysis/phases.ts";
import type { ProgressRow } from "../../ui/types.ts";

function rows(
  steps: number[],
  train_acc: number[],
  test_loss: number[],
  test_acc: number[],
): ProgressRow[] {
  return steps.map((step, i) => ({
    step,
    train_loss: 1 - train_acc[i]!,
    test_loss: test_loss[i]!,
    train_acc: train_acc[i]!,
    test_acc: test_acc[i]!,
    sum_sq_weights: 1000,
    decomposition_error: 0,
  }));
}

// Shaped like the paper's run: memorised by 1k, test loss peaks at 34 and drifts down to 18 (within
// a decade: still circuit formation), falls to 3 at 9.5k (≤ 34 / 10: cleanup starts, while test
// accuracy is only 0.2), and test accuracy reaches 0.99 at 13.5k (cleanup ends).
const GROK = rows(
  [0, 500, 1000, 1500, 3000, 6000, 9000, 9500, 10000, 11000, 12000, 13500, 15000],
  [0.01, 0.6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  [4.7, 8, 20, 34, 30, 25, 18, 3, 1, 0.1, 0.01, 1e-4, 1e-7],
  [0.01, 0.01, 0.01, 0.01, 0.02, 0.03, 0.05, 0.2, 0.6, 0.9, 0.98, 0.995, 1],
);

Deno.test("phases: a grokking run's three phases where the rules put them", () => {
  assert.deepEqual(grokkingPhases(GROK), [
    { name: "memorisation", from: 0, to: 1000 },
    { name: "circuit formation", from: 1000, to: 9500 },
    { name: "cleanup", from: 9500, to: 13500 },
  ]);
  assert.deepEqual(grokkingPhases([...GROK].reverse()), grokkingPhases(GROK)); // any order
});

Deno.test("phases: test accuracy past 0.5 starts the cleanup when the loss has not fallen tenfold", () => {
  // The smoke run's shape (p = 23, half the pairs trained): test loss 9 → 7.3 as accuracy passes 0.5.
  const smoke = rows(
    [0, 150, 300, 900, 1050, 1500],
    [0.04, 1, 1, 1, 1, 1],
    [3.2, 9.0, 8.0, 7.6, 7.3, 2.4],
    [0.03, 0.28, 0.38, 0.48, 0.502, 0.55],
  );
  assert.deepEqual(grokkingPhases(smoke), [
    { name: "memorisation", from: 0, to: 150 },
    { name: "circuit formation", from: 150, to: 1050 },
    { name: "cleanup", from: 1050, to: 1500 }, // never 0.99: runs to the last checkpoint
  ]);
});

Deno.test("phases: the phases not reached are absent", () => {
  const first = (n: number) => GROK.slice(0, n);
  assert.deepEqual(grokkingPhases(first(2)), [{ name: "memorisation", from: 0, to: 500 }]);
  assert.deepEqual(grokkingPhases(first(6)), [
    { name: "memorisation", from: 0, to: 1000 },
    { name: "circuit formation", from: 1000, to: 6000 },
  ]);
  assert.deepEqual(grokkingPhases(GROK.slice(2)), [ // memorised at the first row
    { name: "circuit formation", from: 1000, to: 9500 },
    { name: "cleanup", from: 9500, to: 13500 },
  ]);
  assert.deepEqual(grokkingPhases([]), []);
});

Deno.test("phases: generalising as it memorises skips circuit formation", () => {
  const fast = rows([0, 100, 200, 300], [0.1, 1, 1, 1], [3, 0.5, 0.1, 0.01], [0.1, 0.7, 0.995, 1]);
  assert.deepEqual(grokkingPhases(fast), [
    { name: "memorisation", from: 0, to: 100 },
    { name: "cleanup", from: 100, to: 200 },
  ]);
});

Deno.test("phases: placed from a smoke run's metrics lines, every evaluation; none for oocl", () => {
  // The smoke preset's first evaluations (p = 23, seed 598; train/acc, test/loss, test/acc as
  // metrics.jsonl has them, rounded): memorised by 50, test accuracy past 0.5 at 150 (the loss
  // 3.9 is not yet a tenth of its peak 10.1), 1 at 350.
  const line = (step: number, trainAcc: number, testLoss: number, testAcc: number) => ({
    step,
    lr: 0.01,
    "train/loss": 1 - trainAcc,
    "train/acc": trainAcc,
    "test/loss": testLoss,
    "test/acc": testAcc,
  });
  const lines = [
    line(0, 0.038, 3.21, 0.034),
    line(50, 1, 10.06, 0.464),
    line(100, 1, 5.58, 0.491),
    line(150, 1, 3.91, 0.513),
    line(200, 1, 2.0, 0.615),
    line(250, 1, 0.68, 0.811),
    line(300, 1, 0.147, 0.947),
    line(350, 1, 0.0246, 1),
    line(400, 1, 0.0026, 1),
  ];
  const expected = [
    { name: "memorisation", from: 0, to: 50 },
    { name: "circuit formation", from: 50, to: 150 },
    { name: "cleanup", from: 150, to: 350 },
  ];
  assert.deepEqual(runPhases("modular", lines), expected);
  assert.deepEqual(phaseRows(lines)[1], {
    step: 50,
    train_acc: 1,
    test_loss: 10.06,
    test_acc: 0.464,
  });
  assert.deepEqual(runPhases("oocl", lines), []);
  // A line without a train accuracy (a run that logged only the loss) places nothing.
  assert.deepEqual(phaseRows([{ step: 0, "train/loss": 1 }]), []);
});
