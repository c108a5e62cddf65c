/// <reference lib="dom" />
/**
 * The progress measures against the step (`AnalysisIndex.progress`): losses (train, test,
 * restricted, excluded), the sum of squared weights, and the fractions (accuracies, Gini
 * coefficients, oocl's alias alignment and twin accuracy), with the phases of grokking shaded
 * (`phases.ts`) and the slider's step ruled.
 *
 * @module
 */

import { computed } from "@preact/signals";
import type uPlot from "uplot";
import { Chart } from "../chart.tsx";
import { markerSeries, phaseSeries } from "./phase_bands.ts";
import {
  addSteps,
  phaseBands,
  PROGRESS_CHARTS,
  type ProgressKey,
  progressLines,
  stepMarker,
} from "./progress_series.ts";
import { analysisIndex, phases, shownStep } from "./state.ts";

const COLOURS: Record<ProgressKey, string> = {
  train_loss: "#1f77b4",
  test_loss: "#d62728",
  restricted_loss: "#2ca02c",
  excluded_loss: "#9467bd",
  sum_sq_weights: "#8c564b",
  train_acc: "#1f77b4",
  test_acc: "#d62728",
  gini_embed: "#17becf",
  gini_neurons: "#bcbd22",
  alias_alignment: "#e377c2",
  twin_acc: "#ff7f0e",
  decomposition_error: "#7f7f7f",
  icl_score: "#2ca02c",
  induction_score: "#9467bd",
};

const rows = computed(() => analysisIndex.value?.progress ?? []);

function ProgressChart(props: { chart: keyof typeof PROGRESS_CHARTS; title: string }) {
  const log = props.chart !== "fraction";
  const { steps, lines } = addSteps(
    progressLines(rows.value, PROGRESS_CHARTS[props.chart], log),
    phases.value.flatMap((p) => [p.from, p.to]),
  );
  const series: uPlot.Series[] = [
    ...lines.map((l) => ({
      label: l.key,
      stroke: COLOURS[l.key],
      width: 1.5,
      spanGaps: true, // a phase's boundary between analysed checkpoints is a step with no value
      value: (_u: uPlot, v: number | null) => (v === null ? "—" : v.toPrecision(4)),
    })),
    ...phases.value.map((p) => phaseSeries(p.name)),
    markerSeries(),
  ];
  return (
    <Chart
      testid={`progress-${props.chart}-chart`}
      title={props.title}
      yLabel={log ? `${props.title} (log)` : props.title}
      log={log}
      {
        // alias alignment is a cosine: below 0 when an alias points away from its token
        ...(rows.value.some((r) => (r.alias_alignment ?? 0) < 0) ? { range: [-1, 1] } : {})
      }
      series={series}
      data={[
        steps,
        ...lines.map((l) => l.values),
        ...phaseBands(steps, phases.value),
        stepMarker(steps, shownStep.value),
      ]}
    />
  );
}

/**
 * The progress view.
 *
 * @example
 * ```tsx
 * import { Progress } from "./progress.tsx";
 * const view = <Progress />;
 * ```
 */
export function Progress() {
  return (
    <section class="analysis-view" data-testid="progress">
      <h3>progress measures</h3>
      <p class="hint" data-testid="progress-phases" data-phases={phases.value.length}>
        {analysisIndex.value?.task === "oocl"
          ? "no phases of grokking: they are not defined for the out-of-context experiment"
          : phases.value.length === 0
          ? "no phases: no evaluations yet"
          : `${phases.value.map((p) => `${p.name} ${p.from}–${p.to}`).join(" · ")} ` +
            "(from the metrics lines: memorisation ends at train accuracy 0.99; cleanup starts " +
            "when test loss falls tenfold from its peak or test accuracy passes 0.5, and ends at " +
            "test accuracy 0.99)"}
      </p>
      <div class="charts">
        <ProgressChart chart="loss" title="loss" />
        <ProgressChart chart="weights" title="Σ weight²" />
        {/* oocl has no Gini coefficients: its fractions are the alias cosine and twin accuracy */}
        <ProgressChart
          chart="fraction"
          title={analysisIndex.value?.task === "oocl" ? "accuracy, alias cosine" : "accuracy, Gini"}
        />
      </div>
    </section>
  );
}
