/// <reference lib="dom" />
/**
 * One sequence looked at closely (`SequenceInspectReport`), shared by the sequence views' picked
 * example and the prompt views: its tokens shaded by the loss at each (the value on hover and in
 * `data-loss`); its attention patterns in the manner of CircuitsVis (a thumbnail per head, token
 * labels and the value on hover, the tokens coloured by the attention the hovered token pays
 * them, masked cells blank); and, at a chosen position, the logit lens and the direct logit
 * attribution. Test ids start with `prefix` (`sequence`, `prompt`).
 *
 * @module
 */

import type { Signal } from "@preact/signals";
import { useSignal } from "@preact/signals";
import { formatNumber } from "../runs_rows.ts";
import type { SequenceInspectReport } from "../types.ts";
import { colourAt, cssColour, sequentialScale } from "./colour_scale.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";

const ATTENTION = sequentialScale("attention (row: query, column: key)", [], { min: 0, max: 1 });

/** What `SequenceDetail` draws, and where the chosen position goes. */
export interface SequenceDetailProps {
  prefix: string;
  report: SequenceInspectReport;
  /** The position the lens and attribution read: set by the position field. */
  pos: Signal<number | null>;
}

/** The tokens, each shaded by its loss (`null`: none known there, left blank). */
function LossTokens(props: { prefix: string; report: SequenceInspectReport }) {
  const { prefix, report } = props;
  const scale = sequentialScale("loss at the token (predicting the next)", [], {
    min: 0,
    max: Math.max(...report.loss.map((l) => l ?? 0), 1e-9),
  });
  return (
    <div class="tokens" data-testid={`${prefix}-loss-tokens`}>
      {report.tokens.map((t, k) => {
        const loss = report.loss[k] ?? null;
        return (
          <span
            key={k}
            class="token"
            data-testid={`${prefix}-loss-token-${k}`}
            data-loss={loss ?? ""}
            title={`${JSON.stringify(t)} @${k}: loss ${loss === null ? "—" : formatNumber(loss)}`}
            style={loss === null ? undefined : {
              background: cssColour(colourAt(scale, loss)),
              color: loss / scale.max > 0.5 ? "black" : "white", // viridis: dark low, yellow high
            }}
          >
            {t}
          </span>
        );
      })}
    </div>
  );
}

/** The tokens, each coloured by the attention the hovered one pays it in `pattern`. */
function Tokens(
  props: {
    prefix: string;
    report: SequenceInspectReport;
    pattern: number[][] | undefined;
    hovered: Signal<number | null>;
  },
) {
  const { prefix, report, pattern, hovered } = props;
  return (
    <div class="tokens" data-testid={`${prefix}-tokens`}>
      {report.tokens.map((t, k) => {
        const q = hovered.value;
        const a = q === null || pattern === undefined || k > q ? undefined : pattern[q]?.[k];
        return (
          <span
            key={k}
            class="token"
            data-testid={`${prefix}-token-${k}`}
            title={a === undefined ? `${t} (position ${k})` : `${t}: attention ${formatNumber(a)}`}
            style={a === undefined ? undefined : { background: cssColour(colourAt(ATTENTION, a)) }}
            onMouseEnter={() => hovered.value = k}
            onMouseLeave={() => hovered.value = null}
          >
            {t}
          </span>
        );
      })}
    </div>
  );
}

/** A label → value table (the lens' and the attribution's rows). */
function Rows(props: { testid: string; rows: [string, string, string?][] }) {
  return (
    <table class="lens" data-testid={props.testid}>
      <tbody>
        {props.rows.map(([label, ...cells]) => (
          <tr key={label}>
            <td>{label}</td>
            {cells.map((c, i) => <td key={i}>{c}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The sequence's tokens with their loss, its attention heads, and the lens and attribution at
 * the chosen position.
 *
 * @example
 * ```tsx
 * import { useSignal } from "@preact/signals";
 * import { SequenceDetail } from "./sequence_detail.tsx";
 * import type { SequenceInspectReport } from "../types.ts";
 * function View(props: { report: SequenceInspectReport }) {
 *   const pos = useSignal<number | null>(null);
 *   return <SequenceDetail prefix="prompt" report={props.report} pos={pos} />;
 * }
 * ```
 */
export function SequenceDetail(props: SequenceDetailProps) {
  const { prefix, report: r, pos } = props;
  const head = useSignal<[number, number]>([0, 0]);
  const hovered = useSignal<number | null>(null);
  const T = r.tokens.length;
  const [l, h] = head.value;
  return (
    <>
      <LossTokens prefix={prefix} report={r} />
      <p class="hint">head L{l}H{h}: hover a token for the attention it pays</p>
      <Tokens prefix={prefix} report={r} pattern={r.patterns[l]?.[h]} hovered={hovered} />
      <div class="heads">
        {r.patterns.map((layer, li) =>
          layer.map((pattern, hi) => (
            <figure
              key={`${li}.${hi}`}
              class={li === l && hi === h ? "head chosen" : "head"}
              onClick={() => head.value = [li, hi]}
            >
              <Heatmap
                testid={`${prefix}-head-${li}-${hi}`}
                rows={T}
                cols={T}
                maxCell={Math.max(2, Math.floor(80 / T))}
                values={pattern.flat()}
                scale={ATTENTION}
                axes={false}
                causal
                describe={([q, k]) =>
                  `${r.tokens[q]}@${q} → ${r.tokens[k]}@${k}: ${
                    formatNumber(pattern[q]?.[k] ?? NaN)
                  }`}
                highlight={hovered.value === null ? undefined : { row: hovered.value }}
              />
              <figcaption>L{li}H{hi}</figcaption>
            </figure>
          ))
        )}
      </div>
      <ColourLegend scale={ATTENTION} />
      <label>
        position{" "}
        <input
          type="number"
          data-testid={`${prefix}-pos`}
          min={0}
          max={T - 1}
          value={r.pos}
          onChange={(e) => pos.value = Number(e.currentTarget.value)}
        />
      </label>{" "}
      <span class="hint" data-testid={`${prefix}-target`}>
        following “{r.target_text}” ({r.target_from}); predicted “{r.prediction_text}”
      </span>
      <Rows
        testid={`${prefix}-lens`}
        rows={r.logit_lens.labels.map((name, s) => [
          name,
          `p ${formatNumber(r.logit_lens.target_prob[s]!)}`,
          `rank ${r.logit_lens.target_rank[s]}`,
        ])}
      />
      <Rows
        testid={`${prefix}-dla`}
        rows={r.dla.labels.map((name, c) => [name, formatNumber(r.dla.values[c]!)])}
      />
    </>
  );
}
