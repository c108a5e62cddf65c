/// <reference lib="dom" />
/**
 * The chosen cell's members overlaid: each member's test accuracy (or test loss) by step, thin,
 * with their median bold and their range (least to most at each step) dashed either side.
 *
 * @module
 */

import { signal } from "@preact/signals";
import type uPlot from "uplot";
import { Chart } from "../chart.tsx";
import { cell } from "./state.ts";
import { band } from "./stats.ts";

const KEYS = { "test/acc": "test accuracy", "test/loss": "test loss", "train/loss": "train loss" };
type Key = keyof typeof KEYS;
const shownKey = signal<Key>("test/acc");

/**
 * The overlay of the chosen cell's members.
 *
 * @example
 * ```tsx
 * import { CellCurves } from "./cell_curves.tsx";
 * const view = <CellCurves />;
 * ```
 */
export function CellCurves() {
  const c = cell.value;
  if (c === undefined) return <p class="hint">click a cell to overlay its members' curves</p>;
  const key = shownKey.value;
  const curves = c.members.map((m) => m.curve.map((r) => [r.step, r[key] ?? null] as const));
  const b = band(curves);
  const index = new Map(b.steps.map((s, i) => [s, i]));
  const lines = curves.map((curve) => {
    const out: (number | null)[] = b.steps.map(() => null);
    for (const [s, v] of curve) if (index.has(s)) out[index.get(s)!] = v;
    return out;
  });
  const thin = (label: string): uPlot.Series => ({
    label,
    stroke: "rgba(31,119,180,0.45)",
    width: 1,
    spanGaps: true,
    points: { show: false },
  });
  const series: uPlot.Series[] = [
    ...c.members.map((m) => thin(m.name)),
    { label: "median", stroke: "#d62728", width: 2.5, points: { show: false } },
    { label: "min", stroke: "#d62728", width: 1, dash: [4, 4], points: { show: false } },
    { label: "max", stroke: "#d62728", width: 1, dash: [4, 4], points: { show: false } },
  ];
  return (
    <div class="cell-curves" data-testid="cell-curves" data-members={c.members.length}>
      <label class="hint">
        <select
          data-testid="cell-curves-key"
          value={key}
          onChange={(e) => shownKey.value = e.currentTarget.value as Key}
        >
          {Object.entries(KEYS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
        </select>{" "}
        of {c.members.length} members, their median and range
      </label>
      <Chart
        testid="cell-chart"
        title={KEYS[key]}
        yLabel={key === "test/acc" ? "accuracy" : "loss (log)"}
        log={key !== "test/acc"}
        series={series}
        data={[b.steps, ...lines, b.median, b.min, b.max]}
      />
    </div>
  );
}
