/**
 * From metrics lines to chart lines: which keys are curves (`split/metric` and, for `oocl` runs,
 * `split/metric_group`), how live records merge into what was loaded, and the values on one step
 * axis shared by every selected run, as uPlot wants them (one x array, `null` where a run has no
 * point).
 *
 * @module
 */

import type { MetricsRecord } from "./types.ts";

/** The two quantities charted: loss (log y) and accuracy. */
export type Metric = "loss" | "acc";

/** A metrics key read as a curve: `test/acc_table2` is split test, metric acc, group table2. */
export interface MetricKey {
  key: string;
  split: string;
  metric: Metric;
  /** `null` for the pooled curve (`train/loss`). */
  group: string | null;
}

/** One curve: a run's metrics key. */
export interface Line extends MetricKey {
  run: string;
}

/** Curves on one step axis: `values[i][j]` is `lines[i]` at `steps[j]`. */
export interface ChartData {
  steps: number[];
  lines: Line[];
  values: (number | null)[][];
}

const KEY = /^([A-Za-z]+)\/(loss|acc)(?:_(.+))?$/;

/**
 * Reads a metrics key as a curve, or `null` for keys that are not one (`step`, `lr`, `time_s`).
 *
 * @example
 * ```ts
 * import { parseMetricKey } from "./series.ts";
 * parseMetricKey("test/acc_table2"); // { key: "test/acc_table2", split: "test", metric: "acc", group: "table2" }
 * parseMetricKey("lr"); // null
 * ```
 */
export function parseMetricKey(key: string): MetricKey | null {
  const m = KEY.exec(key);
  if (m === null) return null;
  return { key, split: m[1]!, metric: m[2] as Metric, group: m[3] ?? null };
}

/**
 * A run's records with new ones added: sorted by step, one per step, a later record replacing an
 * earlier one of the same step (the server sends a replaced file again from its first line).
 *
 * @example
 * ```ts
 * import { mergeRecords } from "./series.ts";
 * mergeRecords([{ step: 0 }, { step: 50 }], [{ step: 50 }, { step: 100 }]).map((r) => r.step);
 * // [0, 50, 100]
 * ```
 */
export function mergeRecords(
  old: readonly MetricsRecord[],
  incoming: readonly MetricsRecord[],
): MetricsRecord[] {
  // The live case: the new lines all come after the last one, in order; append them.
  let previous = old.at(-1)?.step ?? -Infinity;
  let ordered = true;
  for (const r of incoming) {
    if (r.step <= previous) ordered = false;
    previous = r.step;
  }
  if (ordered) return [...old, ...incoming];
  const byStep = new Map<number, MetricsRecord>();
  for (const r of old) byStep.set(r.step, r);
  for (const r of incoming) byStep.set(r.step, r);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/**
 * New lines of a run into the ones held. A metrics file that was rewritten (`--resume` cut it
 * back, `--force` made it anew) is sent again from its first line: lines that start at or before
 * the first held step replace what is held, so no point survives that the file no longer has.
 * Otherwise they merge by step (`mergeRecords`).
 *
 * @example
 * ```ts
 * import { applyRecords } from "./series.ts";
 * applyRecords([{ step: 0 }, { step: 500 }], [{ step: 0 }, { step: 100 }]).map((r) => r.step);
 * // [0, 100]: the file was rewritten
 * applyRecords([{ step: 0 }], [{ step: 50 }]).map((r) => r.step); // [0, 50]
 * ```
 */
export function applyRecords(
  old: readonly MetricsRecord[],
  incoming: readonly MetricsRecord[],
): MetricsRecord[] {
  const first = incoming[0];
  const rewritten = first !== undefined && old.length > 0 && first.step <= old[0]!.step;
  return mergeRecords(rewritten ? [] : old, incoming);
}

/**
 * A value a log axis can show: positive and finite, else `null` (a gap rather than -Infinity).
 *
 * @example
 * ```ts
 * import { logSafe } from "./series.ts";
 * logSafe(0.5); // 0.5
 * logSafe(0); // null
 * ```
 */
export function logSafe(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}

function finite(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

const SPLIT_ORDER = ["train", "test"];

function compareKeys(a: MetricKey, b: MetricKey): number {
  if (a.group !== b.group) {
    if (a.group === null) return -1;
    if (b.group === null) return 1;
    return a.group < b.group ? -1 : 1;
  }
  const sa = SPLIT_ORDER.indexOf(a.split), sb = SPLIT_ORDER.indexOf(b.split);
  if (sa !== sb) return (sa < 0 ? 99 : sa) - (sb < 0 ? 99 : sb);
  return a.split < b.split ? -1 : a.split > b.split ? 1 : 0;
}

/**
 * The curve keys of one metric found in a run's records: pooled first, then each group; train
 * before test.
 *
 * @example
 * ```ts
 * import { metricKeys } from "./series.ts";
 * metricKeys([{ step: 0, "test/loss": 1, "train/loss_links": 2, "train/loss": 3 }], "loss")
 *   .map((k) => k.key); // ["train/loss", "test/loss", "train/loss_links"]
 * ```
 */
export function metricKeys(records: readonly MetricsRecord[], metric: Metric): MetricKey[] {
  const found = new Map<string, MetricKey>();
  for (const r of records) {
    for (const key of Object.keys(r)) {
      if (found.has(key)) continue;
      const k = parseMetricKey(key);
      if (k !== null && k.metric === metric) found.set(key, k);
    }
  }
  return [...found.values()].sort(compareKeys);
}

/**
 * Every selected run's curves of one metric on the union of their steps. Loss values that a log
 * axis cannot show (0, negative, NaN) become gaps; curves with no value at all are left out.
 *
 * @example
 * ```ts
 * import { chartData } from "./series.ts";
 * const d = chartData([
 *   { name: "a", records: [{ step: 0, "train/loss": 2 }, { step: 100, "train/loss": 0 }] },
 *   { name: "b", records: [{ step: 50, "train/loss": 1 }] },
 * ], "loss");
 * d.steps; // [0, 50, 100]
 * d.values; // [[2, null, null], [null, 1, null]]
 * ```
 */
export function chartData(
  runs: readonly { name: string; records: readonly MetricsRecord[] }[],
  metric: Metric,
): ChartData {
  const stepSet = new Set<number>();
  for (const run of runs) for (const r of run.records) stepSet.add(r.step);
  const steps = [...stepSet].sort((a, b) => a - b);
  const column = new Map(steps.map((s, j) => [s, j]));
  const clean = metric === "loss" ? logSafe : finite;
  const lines: Line[] = [];
  const values: (number | null)[][] = [];
  for (const run of runs) {
    for (const k of metricKeys(run.records, metric)) {
      const row: (number | null)[] = new Array(steps.length).fill(null);
      let any = false;
      for (const r of run.records) {
        const v = clean(r[k.key]);
        if (v !== null) any = true;
        row[column.get(r.step)!] = v;
      }
      if (!any) continue;
      lines.push({ run: run.name, ...k });
      values.push(row);
    }
  }
  return { steps, lines, values };
}

/**
 * The chart's data without its steps that a log step axis cannot place (step 0).
 *
 * @example
 * ```ts
 * import { positiveSteps } from "./series.ts";
 * positiveSteps({ steps: [0, 50], lines: [], values: [[3, 1]] }).values; // [[1]]
 * ```
 */
export function positiveSteps(d: ChartData): ChartData {
  const keep = d.steps.flatMap((s, j) => (s > 0 ? [j] : []));
  return {
    steps: keep.map((j) => d.steps[j]!),
    lines: d.lines,
    values: d.values.map((row) => keep.map((j) => row[j]!)),
  };
}
