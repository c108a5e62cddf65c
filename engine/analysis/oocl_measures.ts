/**
 * The out-of-context task's measures (`OoclReport`): does the model treat a number and its alias
 * as the same thing, and does what it learned on one table answer the other's held-out cells?
 *
 * Layout (engine/data/oocl.ts): tokens 0..p-1 are numbers and `i + p` is the alias of `i`; table 1
 * is examples `x · p + y`, table 2 the same cells over aliases at `p² + x · p + y`, so the twin of
 * table 1's example `i` is `i + p²`.
 *
 * @module
 */

import type { Tensor } from "../tensor/mod.ts";
import type { Group, TaskData } from "../data/task.ts";
import type { OoclReport, ProgressRow } from "./report.ts";

/**
 * `alias_cosine[i]`: the cosine similarity of `W_E[i]` and `W_E[i + p]` (0 when either is zero).
 * `twin`: for table 1, its held-out cells whose twin cell in table 2 trained, how many (`n`) and
 * the mean of `correct` over them (`acc`, 0 when `n` is 0); then the same for table 2 against
 * table 1. `correct[i]` is 1 when example `i` (over all of the task's examples) is answered
 * right, else 0.
 *
 * @example
 * ```ts
 * import { ooclReport } from "./oocl_measures.ts";
 * import { DEFAULT_OOCL, ooclTask } from "../data/oocl.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const task = ooclTask({ ...DEFAULT_OOCL, p: 2, holdout1: 0.5, holdout2: 0.5 });
 * // d_vocab 8, d_model 2: the alias of 0 points along 0, the alias of 1 is orthogonal to 1
 * const W_E = tensor([1, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [8, 2]);
 * const correct = new Array(task.tokens.length / task.n_ctx).fill(1);
 * const report = ooclReport(new Map([["embed.W_E", W_E]]), task, correct);
 * report.alias_cosine; // [1, 0]
 * report.twin.map((t) => t.table); // [1, 2]
 * ```
 */
export function ooclReport(
  weights: Map<string, Tensor>,
  task: TaskData,
  correct: ArrayLike<number>,
): OoclReport {
  if (task.task !== "oocl") throw new Error(`ooclReport: task is "${task.task}", not "oocl"`);
  const p = (task.vocab.d_vocab - 4) / 2;
  const N = task.tokens.length / task.n_ctx;
  if (correct.length !== N) {
    throw new RangeError(
      `ooclReport: correct has ${correct.length} entries, the task ${N} examples`,
    );
  }
  const W_E = weights.get("embed.W_E"); // [2p + 4, D]
  if (W_E === undefined) throw new Error("embed.W_E is missing from the weights");
  if (W_E.ndim !== 2 || W_E.shape[0] !== task.vocab.d_vocab) {
    throw new RangeError(`embed.W_E [${W_E.shape}]: expected ${task.vocab.d_vocab} rows`);
  }
  const D = W_E.shape[1]!;
  const row = (t: number) => W_E.data.subarray(t * D, (t + 1) * D);
  const alias_cosine = Array.from({ length: p }, (_, i) => cosine(row(i), row(i + p)));

  const table1 = groupNamed(task, "table1");
  const table2 = groupNamed(task, "table2");
  const pp = p * p;
  return {
    alias_cosine,
    twin: [
      { table: 1, ...twinAccuracy(table1.test, new Set(table2.train), pp, correct) },
      { table: 2, ...twinAccuracy(table2.test, new Set(table1.train), pp, correct) },
    ],
  };
}

/**
 * The `ProgressRow` fields an `OoclReport` determines: `alias_alignment`, the mean of
 * `alias_cosine`; `twin_acc`, the accuracy over both tables' twin-trained held-out cells together
 * (the tables' accuracies weighted by their `n`; 0 when there are none).
 *
 * @example
 * ```ts
 * import { ooclProgress } from "./oocl_measures.ts";
 * ooclProgress({
 *   alias_cosine: [1, 0.5],
 *   twin: [{ table: 1, n: 3, acc: 1 }, { table: 2, n: 1, acc: 0 }],
 * }); // { alias_alignment: 0.75, twin_acc: 0.75 }
 * ```
 */
export function ooclProgress(
  report: OoclReport,
): Required<Pick<ProgressRow, "alias_alignment" | "twin_acc">> {
  const cosines = report.alias_cosine;
  const n = report.twin.reduce((s, t) => s + t.n, 0);
  const hits = report.twin.reduce((s, t) => s + t.n * t.acc, 0);
  return {
    alias_alignment: cosines.reduce((s, c) => s + c, 0) / Math.max(cosines.length, 1),
    twin_acc: n === 0 ? 0 : hits / n,
  };
}

/**
 * Held-out examples of one table whose twin (the same cell in the other table, `pp` examples away
 * in either direction) trained: their count and mean correctness.
 */
function twinAccuracy(
  heldOut: Int32Array,
  otherTrain: Set<number>,
  pp: number,
  correct: ArrayLike<number>,
): { n: number; acc: number } {
  let n = 0;
  let hits = 0;
  for (const i of heldOut) {
    const twin = i < pp ? i + pp : i - pp;
    if (!otherTrain.has(twin)) continue;
    n++;
    hits += correct[i]!;
  }
  return { n, acc: n === 0 ? 0 : hits / n };
}

function groupNamed(task: TaskData, name: string): Group {
  const group = task.groups.find((g) => g.name === name);
  if (group === undefined) throw new Error(`ooclReport: the task has no group "${name}"`);
  return group;
}

/** `a·b / (‖a‖ ‖b‖)`, 0 when either is zero. */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let d = 0; d < a.length; d++) {
    ab += a[d]! * b[d]!;
    aa += a[d]! * a[d]!;
    bb += b[d]! * b[d]!;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}
