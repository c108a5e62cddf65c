/// <reference lib="dom" />
/**
 * Each attention head's QK circuit (`W_Q[h] W_K[h]ᵀ`, what it attends by) and OV circuit
 * (`W_V[h] W_O[h]`, what it moves) at the shown step, as their singular values: one heatmap per
 * circuit, a row per head, largest value first, on a log colour scale.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import type { HeadCircuits as Head } from "../types.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";
import { effectiveRank, spectrumScale } from "./spectrum.ts";
import { stepReport } from "./state.ts";

const CIRCUITS = [
  { key: "qk_singular", name: "qk", label: "QK", what: "QK: W_Q W_Kᵀ" },
  { key: "ov_singular", name: "ov", label: "OV", what: "OV: W_V W_O" },
] as const;

/**
 * The two spectra heatmaps; a cell's head and value on hover.
 *
 * @example
 * ```tsx
 * import { HeadCircuits } from "./head_circuits.tsx";
 * const view = <HeadCircuits />;
 * ```
 */
export function HeadCircuits() {
  const report = stepReport.value;
  if (report === null || report.heads.length === 0) return null;
  const heads: Head[] = report.heads;
  const name = (h: Head) => `L${h.layer}H${h.head}`;
  return (
    <section class="analysis-view" data-testid="head-circuits">
      <h3>QK and OV circuits' singular values · step {report.step}</h3>
      <p class="hint">
        one row per head, largest first: one bright cell and the rest dark is a low-rank circuit,
        concentrated on a few directions; (n) is the effective rank
      </p>
      <div class="circuits">
        {CIRCUITS.map((c) => {
          const rows = heads.map((h) => h[c.key]); // [heads][d_head]
          const cols = rows[0]?.length ?? 0;
          const scale = spectrumScale(`${c.label} singular value`, rows.flat());
          const readout = ([r, i]: [number, number]) =>
            `${name(heads[r]!)} ${c.label} σ${i + 1} = ${formatNumber(rows[r]?.[i] ?? NaN)}`;
          return (
            <figure key={c.name}>
              <figcaption>{c.what}</figcaption>
              <Heatmap
                testid={`head-circuits-${c.name}`}
                rows={heads.length}
                cols={cols}
                maxCell={18}
                colTitle="singular value, largest first"
                describe={readout}
                values={rows.flat()}
                scale={scale}
                rowLabels={heads.map((h, i) =>
                  `${name(h)} (${effectiveRank(rows[i] ?? []).toFixed(1)})`
                )}
              />
              <ColourLegend scale={scale} />
            </figure>
          );
        })}
      </div>
    </section>
  );
}
