/// <reference lib="dom" />
/**
 * The embedding in the plane of each key frequency's cos and sin: token t's coordinates on the two
 * Fourier directions of frequency k. A grokked model puts the tokens on a circle, in the order
 * t·k mod p; the points are coloured by token and labelled, the picked example's x and y ringed.
 *
 * @module
 */

import { colourAt, cssColour, sequentialScale } from "./colour_scale.ts";
import { ColourLegend } from "./heatmap.tsx";
import { Plane } from "./plane.tsx";
import { analysisIndex, pickedExample, stepReport } from "./state.ts";

const SIZE = 200;

/**
 * One plane per key frequency of the final checkpoint (`loss_freqs`), at the shown step: scrubbing
 * back shows the circles form.
 *
 * @example
 * ```tsx
 * import { Circles } from "./circles.tsx";
 * const view = <Circles />;
 * ```
 */
export function Circles() {
  const p = analysisIndex.value?.p;
  const modular = stepReport.value?.modular;
  if (p === undefined || modular === undefined) return null;
  const scale = sequentialScale("token", [0, p - 1]);
  const picked = pickedExample.value;
  const ringed = picked === null ? [] : [Math.floor(picked / p), picked % p];
  const tokens = Array.from({ length: p }, (_, t) => String(t));
  const colours = tokens.map((_, t) => cssColour(colourAt(scale, t)));

  return (
    <section class="analysis-view" data-testid="circles">
      <h3>embedding in each key frequency's (cos, sin) plane</h3>
      <p class="hint">the final checkpoint's key frequencies: {modular.loss_freqs.join(", ")}</p>
      <div class="circles">
        {modular.circles.map((c) => (
          <figure key={c.freq}>
            <figcaption>frequency {c.freq}</figcaption>
            <Plane
              testid={`circle-${c.freq}`}
              xs={c.cos}
              ys={c.sin}
              labels={tokens}
              colours={colours}
              size={SIZE}
              ringed={ringed}
              xTitle="cos"
              yTitle="sin"
            />
          </figure>
        ))}
      </div>
      <ColourLegend scale={scale} />
    </section>
  );
}
