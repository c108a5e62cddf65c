/// <reference lib="dom" />
/**
 * A few neurons' activations (last position) over all p² inputs, `acts[x · p + y]`, each a heatmap
 * labelled with the frequency that explains most of it: a neuron of frequency k shows stripes of
 * period p/k (the products of cos and sin of x and y the Fourier circuit computes). A click on a
 * neuron shows it across the whole row, larger.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { sequentialScale } from "./colour_scale.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";
import { analysisIndex, pickedExample, stepReport } from "./state.ts";
import { viewClass } from "./grid.ts";

/**
 * The neuron heatmaps of a `modular` run at the shown step.
 *
 * @example
 * ```tsx
 * import { Neurons } from "./neurons.tsx";
 * const view = <Neurons />;
 * ```
 */
export function Neurons() {
  // The neuron shown across the whole row (a click toggles it): at p = 113 a small one has 2 px cells.
  const enlarged = useSignal<number | null>(null);
  const p = analysisIndex.value?.p;
  const modular = stepReport.value?.modular;
  if (p === undefined || modular === undefined) return null;
  const picked = pickedExample.value;
  const at = picked === null || picked >= p * p
    ? undefined
    : { row: Math.floor(picked / p), col: picked % p };
  return (
    <section class={viewClass(p)} data-testid="neurons">
      <h3>neurons over (x, y) · rows x, columns y</h3>
      <div class="neurons">
        {modular.neurons.map((n) => {
          // Each neuron on its own range: a weak neuron's pattern would vanish on a shared one.
          const scale = sequentialScale(`neuron ${n.neuron} activation`, n.acts);
          const frac = modular.neuron_frac[n.neuron];
          return (
            <figure
              key={n.neuron}
              class={enlarged.value === n.neuron ? "enlarged" : ""}
              data-testid={`neuron-figure-${n.neuron}`}
              title="click to enlarge or shrink"
              onClick={() => enlarged.value = enlarged.value === n.neuron ? null : n.neuron}
            >
              <figcaption>
                neuron {n.neuron} · frequency {n.freq}
                {frac === undefined ? "" : ` (${Math.round(frac * 100)}% explained)`}
              </figcaption>
              <Heatmap
                testid={`neuron-${n.neuron}`}
                rows={p}
                cols={p}
                maxCell={enlarged.value === n.neuron ? 16 : 8}
                rowTitle="x"
                colTitle="y"
                values={n.acts}
                scale={scale}
                highlight={at}
              />
              <ColourLegend scale={scale} />
            </figure>
          );
        })}
      </div>
    </section>
  );
}
