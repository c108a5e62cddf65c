/**
 * The phases of grokking (Nanda et al. 2023, §5.1) read off a run's evaluations, for the bands of
 * the curves and the progress chart. They are placed from the metrics lines (`phaseRows`: every
 * evaluation, so they do not wait for `analyze` and are as fine as `eval_every`), and only for the
 * grokking task: an out-of-context run has no such phases (`runPhases`). The paper drew its
 * boundaries by eye (memorisation 0–1.4k, circuit formation 1.4k–9.4k, cleanup 9.4k–13.3k); these
 * rules put them where its curves turn:
 *
 * 1. **Memorisation** runs from the first evaluation until train accuracy first reaches 0.99: the
 *    model has fit its training set (test loss peaks about there).
 * 2. **Circuit formation** runs from there until the cleanup starts: train accuracy stays at 1 and
 *    test loss stays high (within a decade of its peak) while the Fourier circuit grows.
 * 3. **Cleanup** starts at the first later evaluation where test loss has fallen to a tenth of its
 *    highest value since memorisation ended (the sharp fall: the slow drift of circuit formation
 *    stays within that decade) or test accuracy passes 0.5, whichever comes first, and ends when
 *    test accuracy first reaches 0.99 (the evaluations after are in no phase).
 *
 * A phase not reached is absent; the last phase reached runs to the last evaluation.
 *
 * @module
 */

import type { MetricsRecord, ProgressRow } from "../types.ts";

/** What the rules read of one evaluation. */
export type PhaseRow = Pick<ProgressRow, "step" | "train_acc" | "test_loss" | "test_acc">;

/** One phase as a step interval: the checkpoints with `from <= step < to` (`<= to` for the last). */
export interface Phase {
  name: "memorisation" | "circuit formation" | "cleanup";
  from: number;
  to: number;
}

/** The rules' thresholds (the defaults are the documented rules). */
export interface PhaseRules {
  /** Train accuracy that ends memorisation. */
  memorised: number;
  /** The fraction of its post-memorisation peak test loss must fall to for the cleanup to start. */
  fall: number;
  /** Test accuracy that starts the cleanup if the loss has not fallen that far yet. */
  rising: number;
  /** Test accuracy that ends the cleanup. */
  generalised: number;
}

/** The rules of the module's documentation. */
export const PHASE_RULES: Readonly<PhaseRules> = Object.freeze({
  memorised: 0.99,
  fall: 0.1,
  rising: 0.5,
  generalised: 0.99,
});

/**
 * The phases of a run's evaluations (sorted by step here, so any order will do).
 *
 * @example
 * ```ts
 * import { grokkingPhases } from "./phases.ts";
 * const row = (step: number, train_acc: number, test_loss: number, test_acc: number) => ({
 *   step, train_acc, test_loss, test_acc, train_loss: 0, sum_sq_weights: 0, decomposition_error: 0,
 * });
 * grokkingPhases([row(0, 0, 4, 0), row(100, 1, 20, 0), row(200, 1, 15, 0), row(300, 1, 1, 0.6), row(400, 1, 0.01, 1)]);
 * // [{ name: "memorisation", from: 0, to: 100 }, { name: "circuit formation", from: 100, to: 300 },
 * //  { name: "cleanup", from: 300, to: 400 }]
 * ```
 */
export function grokkingPhases(
  rows: readonly PhaseRow[],
  rules: PhaseRules = PHASE_RULES,
): Phase[] {
  const r = [...rows].sort((a, b) => a.step - b.step);
  const first = r[0];
  const last = r.at(-1);
  if (first === undefined || last === undefined) return [];
  const m = r.findIndex((x) => x.train_acc >= rules.memorised);
  if (m < 0) return [{ name: "memorisation", from: first.step, to: last.step }];
  const out: Phase[] = [];
  if (m > 0) out.push({ name: "memorisation", from: first.step, to: r[m]!.step });
  let peak = -Infinity;
  let c = -1;
  for (let i = m; i < r.length; i++) {
    const x = r[i]!;
    if (x.test_loss === null || x.test_acc === null) continue; // a run holding nothing out
    peak = Math.max(peak, x.test_loss);
    if (x.test_loss <= rules.fall * peak || x.test_acc >= rules.rising) {
      c = i;
      break;
    }
  }
  if (c < 0) return [...out, { name: "circuit formation", from: r[m]!.step, to: last.step }];
  if (c > m) out.push({ name: "circuit formation", from: r[m]!.step, to: r[c]!.step });
  const g = r.findIndex((x, i) => i >= c && (x.test_acc ?? 0) >= rules.generalised);
  // Generalised at the cleanup's first checkpoint: a cleanup of zero length is still marked.
  const end = g < 0 ? last.step : r[g]!.step;
  out.push({ name: "cleanup", from: r[c]!.step, to: end });
  return out;
}

/**
 * A run's metrics lines as the rows the rules read: `train/acc`, `test/loss`, `test/acc` (the
 * pooled figures); lines without a train accuracy are left out.
 *
 * @example
 * ```ts
 * import { phaseRows } from "./phases.ts";
 * phaseRows([{ step: 0, "train/acc": 0.1, "test/loss": 3, "test/acc": 0.1 }, { step: 5, lr: 0 }]);
 * // [{ step: 0, train_acc: 0.1, test_loss: 3, test_acc: 0.1 }]
 * ```
 */
export function phaseRows(records: readonly MetricsRecord[]): PhaseRow[] {
  const num = (v: number | null | undefined) => typeof v === "number" ? v : null;
  return records.flatMap((r) => {
    const train_acc = num(r["train/acc"]);
    if (train_acc === null) return [];
    return [{
      step: r.step,
      train_acc,
      test_loss: num(r["test/loss"]),
      test_acc: num(r["test/acc"]),
    }];
  });
}

/**
 * The phases of a run from its metrics lines; none for a task other than the grokking one
 * (`modular`): the out-of-context experiment's curves have no memorisation-then-cleanup story.
 *
 * @example
 * ```ts
 * import { runPhases } from "./phases.ts";
 * runPhases("oocl", [{ step: 0, "train/acc": 1, "test/loss": 1, "test/acc": 1 }]); // []
 * ```
 */
export function runPhases(task: string | undefined, records: readonly MetricsRecord[]): Phase[] {
  return task === "modular" ? grokkingPhases(phaseRows(records)) : [];
}
