/// <reference lib="dom" />
/**
 * The checked runs' curves on one step axis: loss (log y) and accuracy, train solid and test
 * dashed, one colour per run (per run and group for `oocl` runs' per-table keys), with the focused
 * run's phases of grokking shaded and the checkpoint slider's step ruled; the step axis linear or
 * log (the early steps, where a run memorises, spread out). Redrawn as the stream appends lines.
 *
 * @module
 */

import { computed, signal } from "@preact/signals";
import type uPlot from "uplot";
import { Chart } from "./chart.tsx";
import { markerSeries, phaseSeries } from "./analysis/phase_bands.ts";
import { phaseBands, stepMarker } from "./analysis/progress_series.ts";
import { phases } from "./analysis/state.ts";
import { type ChartData, chartData, positiveSteps } from "./series.ts";
import { checkpointStep, metrics, selected } from "./state.ts";

/** Whether the step axis is logarithmic (step 0 is then left out: a log axis cannot place it). */
const logSteps = signal(false);

// Tableau 10: distinct hues that stay apart on a white background.
const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

const charted = computed(() =>
  selected.value.flatMap((name) => {
    const records = metrics.value[name];
    return records === undefined ? [] : [{ name, records }];
  })
);
const shown = (d: ChartData) => (logSteps.value ? positiveSteps(d) : d);
const loss = computed(() => shown(chartData(charted.value, "loss")));
const acc = computed(() => shown(chartData(charted.value, "acc")));

// One colour per (run, group), in the order they appear, so the same run keeps its colour in
// both charts while runs are only added at the end.
const colours = computed(() => {
  const out = new Map<string, string>();
  for (const d of [loss.value, acc.value]) {
    for (const l of d.lines) {
      const id = `${l.run}\u0000${l.group ?? ""}`;
      if (!out.has(id)) out.set(id, PALETTE[out.size % PALETTE.length]!);
    }
  }
  return out;
});

function seriesOf(d: ChartData): uPlot.Series[] {
  const lines = d.lines.map((l) => ({
    label: `${l.run} ${l.key}`,
    stroke: colours.value.get(`${l.run}\u0000${l.group ?? ""}`)!,
    width: 1.5,
    ...(l.split === "train" ? {} : { dash: [6, 4] }),
    spanGaps: true, // runs evaluated at other steps leave gaps on the shared axis
    points: { show: false },
    value: (_u: uPlot, v: number | null) => v === null ? "—" : v.toPrecision(4),
  }));
  return [...lines, ...phases.value.map((p) => phaseSeries(p.name)), markerSeries()];
}

function CurveChart(props: { data: ChartData; metric: "loss" | "acc" }) {
  const testid = props.metric === "loss" ? "loss-chart" : "acc-chart";
  const title = props.metric === "loss" ? "loss" : "accuracy";
  if (props.data.lines.length === 0) {
    return (
      <div class="chart empty" data-testid={testid}>
        <h3>{title}</h3>
        <p class="hint">
          {selected.value.length === 0
            ? `check runs in the table to see their ${title} curves`
            : props.metric === "loss"
            ? "no positive loss values yet to plot on a log axis"
            : "no accuracy values yet"}
        </p>
      </div>
    );
  }
  return (
    <Chart
      testid={testid}
      title={title}
      yLabel={props.metric === "loss" ? "loss (log)" : "accuracy"}
      log={props.metric === "loss"}
      logX={logSteps.value}
      series={seriesOf(props.data)}
      data={[
        props.data.steps,
        ...props.data.values,
        ...phaseBands(props.data.steps, phases.value),
        stepMarker(props.data.steps, checkpointStep.value),
      ]}
    />
  );
}

/**
 * The loss and accuracy charts of the checked runs.
 *
 * @example
 * ```tsx
 * import { Curves } from "./curves.tsx";
 * const view = <Curves />;
 * ```
 */
export function Curves() {
  return (
    <section class="curves">
      <h2>curves</h2>
      <label class="hint">
        <input
          type="checkbox"
          data-testid="log-steps"
          checked={logSteps.value}
          onChange={(e) => logSteps.value = e.currentTarget.checked}
        />{" "}
        log step axis
      </label>
      <div class="charts">
        <CurveChart data={loss.value} metric="loss" />
        <CurveChart data={acc.value} metric="acc" />
      </div>
    </section>
  );
}
