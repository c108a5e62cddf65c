/**
 * The progress measures (`AnalysisIndex.progress`) as chart lines on one step axis, and the phase
 * bands and the slider's step as data, so the chart redraws them with `setData` like any line.
 * Pure, so tests import it.
 *
 * @module
 */

import type { Phase } from "./phases.ts";
import type { ProgressRow } from "../types.ts";

/** A numeric measure of a progress row. */
export type ProgressKey = Exclude<keyof ProgressRow, "step" | "key_freqs" | "head_scores">;

/** One chart's lines: the steps, and each measure present in some row. */
export interface ProgressLines {
  steps: number[];
  lines: { key: ProgressKey; values: (number | null)[] }[];
}

/** What each chart of the progress view shows (measures absent from every row are left out). */
export const PROGRESS_CHARTS = {
  loss: ["train_loss", "test_loss", "restricted_loss", "excluded_loss"],
  weights: ["sum_sq_weights"],
  fraction: [
    "train_acc",
    "test_acc",
    "gini_embed",
    "gini_neurons",
    "alias_alignment",
    "twin_acc",
    "induction_score",
  ],
} as const satisfies Record<string, readonly ProgressKey[]>;

/**
 * The rows' lines for `keys`, sorted by step; with `log`, values that are not positive are `null`
 * (a log axis cannot place them).
 *
 * @example
 * ```ts
 * import { progressLines } from "./progress_series.ts";
 * const row = (step: number, test_loss: number) => ({
 *   step, test_loss, train_loss: 1, train_acc: 0, test_acc: 0, sum_sq_weights: 1, decomposition_error: 0,
 * });
 * progressLines([row(100, 0), row(0, 2)], ["test_loss", "excluded_loss"], true);
 * // { steps: [0, 100], lines: [{ key: "test_loss", values: [2, null] }] }
 * ```
 */
export function progressLines(
  rows: readonly ProgressRow[],
  keys: readonly ProgressKey[],
  log: boolean,
): ProgressLines {
  const sorted = [...rows].sort((a, b) => a.step - b.step);
  const lines = keys
    .filter((key) => sorted.some((r) => typeof r[key] === "number"))
    .map((key) => ({
      key,
      values: sorted.map((r) => {
        const v = r[key];
        return typeof v === "number" && Number.isFinite(v) && (!log || v > 0) ? v : null;
      }),
    }));
  return { steps: sorted.map((r) => r.step), lines };
}

/**
 * The lines with more steps on their axis (a phase's boundaries, placed from the metrics lines
 * between analysed checkpoints), `null` there, so each band starts and ends where it should.
 *
 * @example
 * ```ts
 * import { addSteps } from "./progress_series.ts";
 * addSteps({ steps: [0, 100], lines: [{ key: "test_loss", values: [2, 1] }] }, [50, 100]);
 * // { steps: [0, 50, 100], lines: [{ key: "test_loss", values: [2, null, 1] }] }
 * ```
 */
export function addSteps(lines: ProgressLines, extra: readonly number[]): ProgressLines {
  const steps = [...new Set([...lines.steps, ...extra])].sort((a, b) => a - b);
  const at = new Map(lines.steps.map((s, j) => [s, j]));
  return {
    steps,
    lines: lines.lines.map((l) => ({
      key: l.key,
      values: steps.map((s) => (at.has(s) ? l.values[at.get(s)!]! : null)),
    })),
  };
}

/**
 * One line per phase for the band series: at each step of the phase, the step its band ends at;
 * `null` elsewhere. A band is drawn from its first non-null step to that value.
 *
 * @example
 * ```ts
 * import { phaseBands } from "./progress_series.ts";
 * phaseBands([0, 100, 200], [{ name: "memorisation", from: 0, to: 100 }, { name: "cleanup", from: 100, to: 200 }]);
 * // [[100, null, null], [null, 200, 200]]
 * ```
 */
export function phaseBands(
  steps: readonly number[],
  phases: readonly Phase[],
): (number | null)[][] {
  return phases.map((p, k) =>
    steps.map((s) =>
      s >= p.from && (s < p.to || (k === phases.length - 1 && s === p.to)) ? p.to : null
    )
  );
}

/**
 * The slider's step as a line: non-null only at that step (the chart draws a vertical rule there).
 *
 * @example
 * ```ts
 * import { stepMarker } from "./progress_series.ts";
 * stepMarker([0, 100, 200], 100); // [null, 1, null]
 * ```
 */
export function stepMarker(steps: readonly number[], step: number | null): (number | null)[] {
  return steps.map((s) => (s === step ? 1 : null));
}
