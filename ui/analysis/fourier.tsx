/// <reference lib="dom" />
/**
 * The embedding's Fourier spectrum: ‖W_E‖ in the Fourier basis of Z_p per frequency (0: the
 * constant; cos and sin of each k joined), the key frequencies highlighted. A grokked model's
 * spectrum is sparse: a few key frequencies carry the embedding.
 *
 * @module
 */

import { BarChart } from "./bars.tsx";
import { stepReport } from "./state.ts";

/**
 * The Fourier spectrum of `W_E` at the shown step.
 *
 * @example
 * ```tsx
 * import { Fourier } from "./fourier.tsx";
 * const view = <Fourier />;
 * ```
 */
export function Fourier() {
  const modular = stepReport.value?.modular;
  if (modular === undefined) return null;
  const labels = modular.embed_fourier_norms.map((_, k) => (k === 0 ? "const" : String(k)));
  return (
    <section class="analysis-view" data-testid="fourier">
      <h3>Fourier spectrum of W_E · step {stepReport.value?.step}</h3>
      <p class="hint">
        ‖W_E‖ per frequency; key frequencies (orange): {modular.key_freqs.join(", ") || "none"}
      </p>
      <BarChart
        testid="fourier-bars"
        labels={labels}
        values={modular.embed_fourier_norms}
        yLabel="‖W_E‖ per frequency"
        xLabel="frequency k (const: the constant)"
        highlight={new Set(modular.key_freqs.map(String))}
      />
    </section>
  );
}
