/**
 * The runs table's rows: its columns, the text filter and the header-click sort. Pure, so the
 * table component only renders.
 *
 * @module
 */

import type { RunSummary } from "./types.ts";

/** The table's columns, in display order. */
export const COLUMNS = [
  { id: "name", label: "name" },
  { id: "task", label: "task" },
  { id: "preset", label: "preset" },
  { id: "status", label: "status" },
  { id: "step", label: "step" },
  { id: "train_loss", label: "train loss" },
  { id: "test_loss", label: "test loss" },
  { id: "train_acc", label: "train acc" },
  { id: "test_acc", label: "test acc" },
  { id: "started", label: "started" },
] as const;

/** A column's id. */
export type ColumnId = typeof COLUMNS[number]["id"];

/** Which column orders the rows, and which way. */
export interface SortState {
  column: ColumnId;
  descending: boolean;
}

const METRIC_OF: Partial<Record<ColumnId, string>> = {
  train_loss: "train/loss",
  test_loss: "test/loss",
  train_acc: "train/acc",
  test_acc: "test/acc",
};

/**
 * A run's value in a column: a number for step and metrics (`null` when not logged yet), text
 * otherwise. `started` sorts as its ISO text, which orders by time.
 *
 * @example
 * ```ts
 * import { cellValue } from "./runs_rows.ts";
 * const run = { name: "a", task: "modular", preset: "smoke", status: "running" as const, step: 50,
 *   steps: 100, metrics: { "test/acc": 0.5 }, started: "2026-11-20T10:00:00.000Z" };
 * cellValue(run, "test_acc"); // 0.5
 * cellValue(run, "train_loss"); // null
 * ```
 */
export function cellValue(run: RunSummary, column: ColumnId): string | number | null {
  const key = METRIC_OF[column];
  if (key !== undefined) {
    const v = run.metrics[key];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  }
  if (column === "step") return run.step;
  return run[column as "name" | "task" | "preset" | "status" | "started"];
}

/**
 * What the step column says of an imported model (status "imported": no steps, no progress): its
 * source and its parameter count; `null` for a run trained here.
 *
 * @example
 * ```ts
 * import { importedText } from "./runs_rows.ts";
 * const run = { name: "gpt2", task: "pretrained", preset: "import", status: "imported" as const,
 *   step: 0, steps: 0, metrics: {}, started: "2026-12-06T10:00:00.000Z",
 *   imported: { source: "gpt2", n_params: 124_439_808 } };
 * importedText(run); // "gpt2, 124M parameters"
 * ```
 */
export function importedText(run: RunSummary): string | null {
  if (run.imported === undefined) return null;
  const n = run.imported.n_params;
  const count = n >= 1e6
    ? `${formatNumber(n / 1e6)}M`
    : n >= 1e3
    ? `${formatNumber(n / 1e3)}k`
    : `${n}`;
  return `${run.imported.source}, ${count} parameters`;
}

/**
 * A metric as the table shows it: three significant digits, with an exponent below 0.001 (a
 * grokked run's train loss is 1e-6, which fixed decimals would show as 0).
 *
 * @example
 * ```ts
 * import { formatNumber } from "./runs_rows.ts";
 * formatNumber(0.4719); // "0.472"
 * formatNumber(1); // "1"
 * formatNumber(0.0000017); // "1.70e-6"
 * ```
 */
export function formatNumber(value: number): string {
  const rounded = Number(value.toPrecision(3)); // first, so 99999 is 1.00e5 like 100000
  const a = Math.abs(rounded);
  if (a === 0 || (a >= 1e-3 && a < 1e5)) return String(rounded);
  return rounded.toExponential(2).replace("e+", "e");
}

/**
 * The runs whose name, task, preset or status contain every word of `text` (any case).
 *
 * @example
 * ```ts
 * import { filterRuns } from "./runs_rows.ts";
 * const base = { task: "modular", preset: "smoke", status: "finished" as const, step: 0, steps: 1,
 *   metrics: {}, started: "" };
 * filterRuns([{ ...base, name: "add_23" }, { ...base, name: "sub_23" }], "ADD").map((r) => r.name);
 * // ["add_23"]
 * ```
 */
export function filterRuns(runs: readonly RunSummary[], text: string): RunSummary[] {
  const words = text.toLowerCase().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return [...runs];
  return runs.filter((r) => {
    const hay = `${r.name} ${r.task} ${r.preset} ${r.status}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

function compareCells(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

/**
 * The runs ordered by a column; ties keep their order, runs without a value go last either way.
 *
 * @example
 * ```ts
 * import { sortRuns } from "./runs_rows.ts";
 * const base = { task: "modular", preset: "smoke", status: "finished" as const, steps: 1,
 *   metrics: {}, started: "" };
 * const runs = [{ ...base, name: "b", step: 2 }, { ...base, name: "a", step: 10 }];
 * sortRuns(runs, { column: "step", descending: true }).map((r) => r.name); // ["a", "b"]
 * ```
 */
export function sortRuns(runs: readonly RunSummary[], sort: SortState): RunSummary[] {
  const sign = sort.descending ? -1 : 1;
  return runs
    .map((run, i) => ({ run, i, v: cellValue(run, sort.column) }))
    .sort((x, y) => {
      if (x.v === null || y.v === null) {
        return x.v === y.v ? x.i - y.i : x.v === null ? 1 : -1;
      }
      return sign * compareCells(x.v, y.v) || x.i - y.i;
    })
    .map((x) => x.run);
}

/**
 * The sort after a click on a column's header: the same column flips its direction; another
 * starts descending for numbers and time (largest, newest first) and ascending for text.
 *
 * @example
 * ```ts
 * import { nextSort } from "./runs_rows.ts";
 * nextSort({ column: "name", descending: false }, "name"); // { column: "name", descending: true }
 * nextSort({ column: "name", descending: false }, "step"); // { column: "step", descending: true }
 * ```
 */
export function nextSort(sort: SortState, column: ColumnId): SortState {
  if (sort.column === column) return { column, descending: !sort.descending };
  const text = column === "name" || column === "task" || column === "preset" ||
    column === "status";
  return { column, descending: !text };
}

/**
 * The runs the page holds (checked, or with curves loaded) that the server no longer lists: their
 * folder is gone, so they leave the charts and the caches.
 *
 * @example
 * ```ts
 * import { vanished } from "./runs_rows.ts";
 * vanished([{ name: "a" }], ["a", "b", "b"]); // ["b"]
 * ```
 */
export function vanished(listed: readonly { name: string }[], held: Iterable<string>): string[] {
  const names = new Set(listed.map((r) => r.name));
  return [...new Set([...held].filter((n) => !names.has(n)))];
}
