/// <reference lib="dom" />
/**
 * The neurons clustered by frequency and the losses per frequency (`modular`, Nanda et al. §4.2 and
 * §5): how many neurons each frequency explains (> 0.85 of their variance), the key frequencies
 * highlighted, and for each of the final checkpoint's key frequencies the train loss with it alone
 * kept (restricted) and alone removed (excluded), beside the train loss at this step.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import { BarChart } from "./bars.tsx";
import { colourAt, cssColour, type SequentialScale } from "./colour_scale.ts";
import { clusterBars, lossRows } from "./clusters.ts";
import { ColourLegend } from "./heatmap.tsx";
import { analysisIndex, stepReport } from "./state.ts";

function Loss(props: { value: number; scale: SequentialScale }) {
  return (
    <span class="swatch">
      <i style={{ background: cssColour(colourAt(props.scale, props.value)) }} />
      {formatNumber(props.value)}
    </span>
  );
}

/**
 * The cluster bars and the per-frequency loss table at the shown step.
 *
 * @example
 * ```tsx
 * import { Clusters } from "./clusters.tsx";
 * const view = <Clusters />;
 * ```
 */
export function Clusters() {
  const report = stepReport.value;
  const modular = report?.modular;
  if (report === null || modular === undefined) return null;
  const bars = clusterBars(modular);
  const trainLoss = analysisIndex.value?.progress.find((r) => r.step === report.step)?.train_loss;
  const { rows, scale } = lossRows(modular, trainLoss);
  const share = bars.neurons === 0 ? 0 : bars.clustered / bars.neurons;
  return (
    <section class="analysis-view" data-testid="clusters">
      <h3>neurons by frequency · step {report.step}</h3>
      <p class="hint" data-testid="clusters-share" data-clustered={bars.clustered}>
        {bars.clustered} of {bars.neurons}{" "}
        neurons ({(share * 100).toFixed(1)}%) have a frequency explaining &gt; 85% of their
        variance; key frequencies (orange): {modular.key_freqs.join(", ") || "none"}
      </p>
      <BarChart
        testid="clusters-bars"
        labels={bars.labels}
        values={bars.values}
        titles={bars.titles}
        highlight={bars.highlight}
        yLabel="neurons"
        xLabel="frequency k explaining > 85% of the neuron's variance"
      />
      <table class="loss-table" data-testid="clusters-losses" data-rows={rows.length}>
        <caption>
          train loss with frequencies kept in or removed from the logits (orange: key at this step);
          train loss as is:{" "}
          {trainLoss === undefined ? "unknown" : <Loss value={trainLoss} scale={scale} />}
        </caption>
        <thead>
          <tr>
            <th>frequency</th>
            <th>restricted (only it kept)</th>
            <th>excluded (it removed)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} class={r.key ? "key" : ""}>
              <td>{r.label}</td>
              <td>
                <Loss value={r.restricted} scale={scale} />
              </td>
              <td>
                <Loss value={r.excluded} scale={scale} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ColourLegend scale={scale} />
    </section>
  );
}
