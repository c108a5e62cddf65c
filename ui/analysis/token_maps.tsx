/// <reference lib="dom" />
/**
 * A `modular` checkpoint's token maps (`ModularReport.maps`) at the shown step: for the chosen
 * head, its full QK circuit (query token × key token, `W_E W_Q W_Kᵀ W_Eᵀ`), its full OV circuit
 * (input token × output logit, `W_E W_V W_O W_U`) and the attention `=` pays to x over every input
 * (x, y); and `W_E` and `W_Uᵀ` in the Fourier basis (basis row × residual dimension: a model that
 * grokked lights up a few frequencies' rows). Hovering a cell reads its value out.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { formatNumber } from "../runs_rows.ts";
import { type ColourScale, divergingScale, sequentialScale } from "./colour_scale.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";
import { viewClass } from "./grid.ts";
import { analysisIndex, stepReport } from "./state.ts";

/** One heatmap of the view: its cells, labels and how a hovered cell reads. */
interface MapSpec {
  id: string;
  caption: string;
  rows: number;
  cols: number;
  values: number[];
  scale: ColourScale;
  rowName: (r: number) => string;
  colName: (c: number) => string;
  /** What the rows and the columns count, written beside their ticks. */
  titles: [string, string];
}

/** Row `r` of `fourierBasis(p)`: the constant, then cos k and sin k for k = 1, 2, ... */
function basisRow(r: number): string {
  return r === 0 ? "const" : `${r % 2 === 1 ? "cos" : "sin"} ${Math.ceil(r / 2)}`;
}

function MapFigure(props: { spec: MapSpec; onHover: (line: string) => void }) {
  const s = props.spec;
  // At most about 240 px a side (cells shrink to fit the panel); labels only where a cell is wide
  // enough to read one, else the axes are ticked by index.
  const cell = Math.max(1, Math.floor(240 / Math.max(s.rows, s.cols)));
  const labels = (n: number, name: (i: number) => string) =>
    cell >= 12 ? Array.from({ length: n }, (_, i) => name(i)) : undefined;
  // One line per cell, for the heatmap's tooltip and the view's readout alike.
  const line = ([r, c]: [number, number]) =>
    `${s.caption}: ${s.rowName(r)}, ${s.colName(c)} = ${
      formatNumber(s.values[r * s.cols + c] ?? NaN)
    }`;
  return (
    <figure>
      <figcaption>{s.caption}</figcaption>
      <Heatmap
        testid={s.id}
        rows={s.rows}
        cols={s.cols}
        maxCell={cell}
        values={s.values}
        scale={s.scale}
        rowLabels={labels(s.rows, s.rowName)}
        colLabels={labels(s.cols, s.colName)}
        rowTitle={s.titles[0]}
        colTitle={s.titles[1]}
        describe={line}
        onHover={(at) => props.onHover(at === null ? "" : line(at))}
      />
      <ColourLegend scale={s.scale} />
    </figure>
  );
}

/**
 * The token maps view.
 *
 * @example
 * ```tsx
 * import { TokenMaps } from "./token_maps.tsx";
 * const view = <TokenMaps />;
 * ```
 */
export function TokenMaps() {
  const chosen = useSignal(0);
  const hover = useSignal("");
  const index = analysisIndex.value;
  const maps = stepReport.value?.modular?.maps;
  if (index === null || maps === undefined || maps.heads.length === 0) return null;
  const { p, vocab } = index;
  const V = maps.d_vocab;
  const D = maps.d_model;
  const head = maps.heads[Math.min(chosen.value, maps.heads.length - 1)]!;
  const name = `L${head.layer}H${head.head}`;
  const token = (t: number) => vocab[t] ?? String(t);
  const specs: MapSpec[] = [
    {
      id: "token-qk",
      caption: `${name} QK: query × key token`,
      rows: V,
      cols: V,
      values: head.qk,
      scale: divergingScale("QK score (before 1/√d_head)", head.qk),
      rowName: (r) => `query ${token(r)}`,
      colName: (c) => `key ${token(c)}`,
      titles: ["query", "key"],
    },
    {
      id: "token-ov",
      caption: `${name} OV: token × logit`,
      rows: V,
      cols: p,
      values: head.ov,
      scale: divergingScale("OV logit", head.ov),
      rowName: (r) => `token ${token(r)}`,
      colName: (c) => `logit ${c}`,
      titles: ["token", "logit"],
    },
    ...(head.eq_to_x === undefined ? [] : [{
      id: "token-eq-attention",
      caption: `${name} attention from = to x`,
      rows: p,
      cols: p,
      values: head.eq_to_x,
      scale: sequentialScale("attention on x", head.eq_to_x, { min: 0, max: 1 }),
      rowName: (r: number) => `x ${r}`,
      colName: (c: number) => `y ${c}`,
      titles: ["x", "y"] as [string, string],
    }]),
  ];
  const fourier: MapSpec[] = [
    { id: "embed-fourier-map", caption: "W_E in the Fourier basis", values: maps.embed_fourier },
    {
      id: "unembed-fourier-map",
      caption: "W_Uᵀ in the Fourier basis",
      values: maps.unembed_fourier,
    },
  ].map((m) => ({
    ...m,
    rows: p,
    cols: D,
    scale: divergingScale("component", m.values),
    rowName: basisRow,
    colName: (c: number) => `d ${c}`,
    titles: ["basis row", "d_model"] as [string, string],
  }));
  return (
    <section class={viewClass(p)} data-testid="token-maps">
      <h3>full circuits and Fourier maps · step {stepReport.value?.step}</h3>
      <p class="hint">
        QK and OV through the embedding alone (TransformerLens' W_E QK W_Eᵀ and W_E OV W_U; no
        positions); the attention is the model's own, at every input
      </p>
      <div class="toggle" role="group" aria-label="the head the circuits are of">
        {maps.heads.map((h, i) => (
          <button
            type="button"
            key={i}
            data-testid={`token-maps-head-${i}`}
            class={h === head ? "chosen" : ""}
            onClick={() => chosen.value = i}
          >
            L{h.layer}H{h.head}
          </button>
        ))}
      </div>
      <div class="circuits">
        {specs.map((s) => <MapFigure key={s.id} spec={s} onHover={(l) => hover.value = l} />)}
      </div>
      <div class="circuits">
        {fourier.map((s) => <MapFigure key={s.id} spec={s} onHover={(l) => hover.value = l} />)}
      </div>
      <p class="readout" data-testid="token-maps-readout">{hover.value}</p>
    </section>
  );
}
