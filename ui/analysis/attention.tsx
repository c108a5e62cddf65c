/// <reference lib="dom" />
/**
 * The picked example's attention patterns in the manner of CircuitsVis `attention_heads`: a
 * thumbnail per (layer, head); hovering one shows it large, clicking keeps it there; hovering a
 * token outlines its row (as the query) and column (as the key) in every pattern.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { sequentialScale } from "./colour_scale.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";
import { inspectReport } from "./state.ts";
import { formatNumber } from "../runs_rows.ts";

const SCALE = sequentialScale("attention weight (row: query, column: key)", [], { min: 0, max: 1 });

/**
 * The attention heads grid of the picked example.
 *
 * @example
 * ```tsx
 * import { Attention } from "./attention.tsx";
 * const view = <Attention />;
 * ```
 */
export function Attention() {
  const chosen = useSignal<[number, number]>([0, 0]);
  const hoveredHead = useSignal<[number, number] | null>(null);
  const token = useSignal<number | null>(null);
  const report = inspectReport.value;
  if (report === null) return null;
  const T = report.tokens.length;
  const [l, h] = hoveredHead.value ?? chosen.value;
  const focus = report.patterns[l]?.[h];
  const highlight = token.value === null ? undefined : { row: token.value, col: token.value };
  const describe = (pattern: number[][]) => ([q, k]: [number, number]) =>
    `query ${report.tokens[q]} (position ${q}) → key ${report.tokens[k]} (position ${k}): ${
      k > q ? "masked (after the query)" : formatNumber(pattern[q]?.[k] ?? NaN)
    }`;
  return (
    <section class="analysis-view" data-testid="attention">
      <h3>attention · example #{report.example} at step {report.step}</h3>
      <div class="tokens">
        {report.tokens.map((t, i) => (
          <span
            key={i}
            class={token.value === i ? "token chosen" : "token"}
            data-testid={`attention-token-${i}`}
            onMouseEnter={() => token.value = i}
            onMouseLeave={() => token.value = null}
          >
            {t}
          </span>
        ))}
      </div>
      <div class="heads">
        {report.patterns.map((layer, li) =>
          layer.map((pattern, hi) => (
            <figure
              key={`${li}.${hi}`}
              class={li === l && hi === h ? "head chosen" : "head"}
              onMouseEnter={() => hoveredHead.value = [li, hi]}
              onMouseLeave={() => hoveredHead.value = null}
              onClick={() => chosen.value = [li, hi]}
            >
              <Heatmap
                testid={`attention-head-${li}-${hi}`}
                rows={T}
                cols={T}
                maxCell={Math.max(4, Math.floor(60 / T))}
                values={pattern.flat()}
                scale={SCALE}
                axes={false}
                causal
                describe={describe(pattern)}
                highlight={highlight}
              />
              <figcaption>L{li}H{hi}</figcaption>
            </figure>
          ))
        )}
      </div>
      {focus !== undefined && (
        <figure class="focus" data-testid="attention-focus" data-head={`${l}.${h}`}>
          <figcaption>L{l}H{h}</figcaption>
          <Heatmap
            testid="attention-focus-map"
            rows={T}
            cols={T}
            maxCell={Math.floor(240 / T)}
            values={focus.flat()}
            scale={SCALE}
            rowLabels={report.tokens}
            colLabels={report.tokens}
            rowTitle="query"
            colTitle="key"
            causal
            describe={describe(focus)}
            highlight={highlight}
            onHover={(rc) =>
              token.value = rc === null ? null : rc[0]}
          />
        </figure>
      )}
      <ColourLegend scale={SCALE} />
    </section>
  );
}
