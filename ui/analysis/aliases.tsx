/// <reference lib="dom" />
/**
 * The out-of-context task's measures at the shown step: how closely each token's embedding lines up
 * with its alias's (cosine of `W_E[i]` and `W_E[i + p]`), and the accuracy on held-out cells whose
 * twin in the other table was trained: the transfer the experiment asks about.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import { BarChart } from "./bars.tsx";
import { stepReport } from "./state.ts";

/**
 * The alias alignment bars and twin accuracies of an `oocl` run.
 *
 * @example
 * ```tsx
 * import { Aliases } from "./aliases.tsx";
 * const view = <Aliases />;
 * ```
 */
export function Aliases() {
  const oocl = stepReport.value?.oocl;
  if (oocl === undefined) return null;
  return (
    <section class="analysis-view" data-testid="aliases">
      <h3>token and alias embeddings · step {stepReport.value?.step}</h3>
      <p class="hint">cosine of W_E[i] and W_E[i + p] for each token i</p>
      <BarChart
        testid="alias-bars"
        labels={oocl.alias_cosine.map((_, i) => String(i))}
        values={oocl.alias_cosine}
        yLabel="cosine"
        xLabel="token i (with its alias i + p)"
      />
      <p data-testid="twin-acc">
        {oocl.twin.map((t) =>
          `table ${t.table}: ${t.n} held-out cells with a trained twin, accuracy ${
            formatNumber(t.acc)
          }`
        ).join(" · ")}
      </p>
    </section>
  );
}
