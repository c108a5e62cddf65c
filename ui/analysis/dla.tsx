/// <reference lib="dom" />
/**
 * Direct logit attribution of the picked example: how much each part of the residual stream (the
 * embeddings, each head, each MLP, the biases) adds to the target's logit at the last position;
 * the parts sum to that logit. In model order, or sorted with the largest first.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { BarChart } from "./bars.tsx";
import { formatNumber } from "../runs_rows.ts";
import { orderBars } from "./geometry.ts";
import { analysisIndex, inspectReport } from "./state.ts";

/**
 * The direct logit attribution bars.
 *
 * @example
 * ```tsx
 * import { Dla } from "./dla.tsx";
 * const view = <Dla />;
 * ```
 */
export function Dla() {
  const order = useSignal<"model" | "sorted">("model");
  const report = inspectReport.value;
  if (report === null) return null;
  const bars = orderBars(report.dla, order.value);
  const total = report.dla.values.reduce((a, b) => a + b, 0);
  const target = analysisIndex.value?.vocab[report.target] ?? String(report.target);
  return (
    <section class="analysis-view" data-testid="dla">
      <h3>direct logit attribution to “{target}” · example #{report.example}</h3>
      <div class="toggle" role="group" aria-label="order the bars">
        {(["model", "sorted"] as const).map((o) => (
          <button
            type="button"
            key={o}
            data-testid={`dla-order-${o}`}
            class={order.value === o ? "chosen" : ""}
            onClick={() => order.value = o}
          >
            {o === "model" ? "model order" : "sorted"}
          </button>
        ))}
      </div>
      <BarChart
        testid="dla-bars"
        labels={bars.labels}
        values={bars.values}
        yLabel="logit"
        xLabel="part of the residual stream"
      />
      <p class="hint" data-testid="dla-sum">
        parts sum to {formatNumber(total)} (the target's logit); prediction{" "}
        {analysisIndex.value?.vocab[report.prediction] ?? report.prediction}, loss{" "}
        {formatNumber(report.loss)}
      </p>
    </section>
  );
}
