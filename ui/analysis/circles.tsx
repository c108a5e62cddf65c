/// <reference lib="dom" />
/**
 * The embedding in the plane of each key frequency's cos and sin: token t's coordinates on the two
 * Fourier directions of frequency k. A grokked model puts the tokens on a circle, in the order
 * t·k mod p; the points are coloured by token and labelled, the picked example's x and y ringed.
 *
 * @module
 */

import { colourAt, cssColour, sequentialScale } from "./colour_scale.ts";
import { planePoints } from "./geometry.ts";
import { ColourLegend } from "./heatmap.tsx";
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
  const every = Math.ceil(p / 40); // beyond 40 labels a circle is unreadable: each token on hover

  return (
    <section class="analysis-view" data-testid="circles">
      <h3>embedding in each key frequency's (cos, sin) plane</h3>
      <p class="hint">the final checkpoint's key frequencies: {modular.loss_freqs.join(", ")}</p>
      <div class="circles">
        {modular.circles.map((c) => (
          <figure key={c.freq}>
            <figcaption>frequency {c.freq}</figcaption>
            <svg
              data-testid={`circle-${c.freq}`}
              data-points={c.cos.length}
              width={SIZE}
              height={SIZE}
              viewBox={`0 0 ${SIZE} ${SIZE}`}
            >
              <line x1={0} x2={SIZE} y1={SIZE / 2} y2={SIZE / 2} class="zero" />
              <line x1={SIZE / 2} x2={SIZE / 2} y1={0} y2={SIZE} class="zero" />
              {planePoints(c.cos, c.sin, SIZE, 16).map(([x, y], t) => (
                <g key={t}>
                  <circle
                    cx={x}
                    cy={y}
                    r={ringed.includes(t) ? 5 : 3}
                    class={ringed.includes(t) ? "ringed" : ""}
                    fill={cssColour(colourAt(scale, t))}
                  >
                    <title>
                      {`token ${t}: (${c.cos[t]?.toFixed(3)}, ${c.sin[t]?.toFixed(3)})`}
                    </title>
                  </circle>
                  {t % every === 0 && <text x={x + 4} y={y - 3} class="point-label">{t}</text>}
                </g>
              ))}
            </svg>
          </figure>
        ))}
      </div>
      <ColourLegend scale={scale} />
    </section>
  );
}
