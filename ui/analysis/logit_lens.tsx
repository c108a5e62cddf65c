/// <reference lib="dom" />
/**
 * The logit lens of the picked example: the residual stream at the last position read through the
 * final layer norm and unembedding after each stage (`resid_pre 0`, `resid_mid 0`, `resid_post 0`,
 * ...), as the target's probability. Where the bar reaches 1 and stays, the answer is settled.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import { BarChart } from "./bars.tsx";
import { lensTitles, topFrom } from "./lens.ts";
import { analysisIndex, inspectReport } from "./state.ts";

/**
 * The target's probability per stage, its logit and rank on hover.
 *
 * @example
 * ```tsx
 * import { LogitLens } from "./logit_lens.tsx";
 * const view = <LogitLens />;
 * ```
 */
export function LogitLens() {
  const report = inspectReport.value;
  if (report === null) return null;
  const lens = report.logit_lens;
  const target = analysisIndex.value?.vocab[report.target] ?? String(report.target);
  const from = topFrom(lens.target_rank);
  const last = lens.labels.length - 1;
  return (
    <section class="analysis-view" data-testid="logit-lens">
      <h3>logit lens · p(“{target}”) after each stage · example #{report.example}</h3>
      <BarChart
        testid="logit-lens-bars"
        labels={lens.labels}
        values={lens.target_prob}
        yLabel={`p(${target})`}
        xLabel="stage the residual stream is read at"
        titles={lensTitles(lens)}
        domain={[0, 1]}
      />
      <p class="hint" data-testid="logit-lens-summary">
        {from === null
          ? `not the top prediction at the end (rank ${lens.target_rank[last]})`
          : `the top prediction from ${lens.labels[from]} on`}; final logit{" "}
        {formatNumber(lens.target_logit[last] ?? NaN)} · hover a bar for its logit and rank
      </p>
    </section>
  );
}
