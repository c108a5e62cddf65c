/// <reference lib="dom" />
/**
 * The one heatmap every analysis view draws with: a canvas of `rows × cols` cells coloured by a
 * `ColourScale`, optional row and column labels, a highlighted row and column, and hover and click
 * reported as a cell; and the legend that says what its colours mean.
 *
 * @module
 */

import { useEffect, useRef } from "preact/hooks";
import { colourAt, type ColourScale, cssColour, gradientCss, legendTicks } from "./colour_scale.ts";
import { formatNumber } from "../runs_rows.ts";

/** A heatmap's data and what it reports. */
export interface HeatmapProps {
  testid: string;
  rows: number;
  cols: number;
  /** `[rows * cols]`, row-major. */
  values: ArrayLike<number>;
  scale: ColourScale;
  /** Pixels per cell. */
  cell: number;
  rowLabels?: string[] | undefined;
  colLabels?: string[] | undefined;
  /** A row and a column outlined (a token's, or the picked example's). */
  highlight?: { row?: number | undefined; col?: number | undefined } | undefined;
  onHover?: ((cell: [number, number] | null) => void) | undefined;
  onPick?: ((cell: [number, number]) => void) | undefined;
}

function draw(canvas: HTMLCanvasElement, props: HeatmapProps): void {
  const { rows, cols, cell, values, scale, highlight } = props;
  const ctx = canvas.getContext("2d")!;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ctx.fillStyle = cssColour(colourAt(scale, values[r * cols + c] ?? NaN));
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }
  }
  ctx.strokeStyle = "#e4572e";
  ctx.lineWidth = Math.max(1, Math.min(2, cell / 4));
  if (highlight?.row !== undefined) ctx.strokeRect(0, highlight.row * cell, cols * cell, cell);
  if (highlight?.col !== undefined) ctx.strokeRect(highlight.col * cell, 0, cell, rows * cell);
}

/**
 * A canvas heatmap.
 *
 * @example
 * ```tsx
 * import { Heatmap } from "./heatmap.tsx";
 * import { sequentialScale } from "./colour_scale.ts";
 * const view = (
 *   <Heatmap testid="demo" rows={2} cols={2} values={[0, 1, 2, 3]} cell={20}
 *     scale={sequentialScale("value", [0, 3])} />
 * );
 * ```
 */
export function Heatmap(props: HeatmapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => draw(canvas.current!, props));
  const cellAt = (e: MouseEvent): [number, number] | null => {
    const el = e.currentTarget as HTMLCanvasElement;
    const r = Math.floor((e.offsetY / el.clientHeight) * props.rows);
    const c = Math.floor((e.offsetX / el.clientWidth) * props.cols);
    return r >= 0 && r < props.rows && c >= 0 && c < props.cols ? [r, c] : null;
  };
  const size = `${props.cell}px`;
  return (
    <div class="heatmap" style={{ gridTemplateColumns: `auto ${props.cols * props.cell}px` }}>
      <span />
      <div class="col-labels" style={{ gridTemplateColumns: `repeat(${props.cols}, ${size})` }}>
        {props.colLabels?.map((l, i) => <span key={i} title={l}>{l}</span>)}
      </div>
      <div class="row-labels" style={{ gridTemplateRows: `repeat(${props.rows}, ${size})` }}>
        {props.rowLabels?.map((l, i) => <span key={i} title={l}>{l}</span>)}
      </div>
      <canvas
        ref={canvas}
        data-testid={props.testid}
        data-rows={props.rows}
        data-cols={props.cols}
        width={props.cols * props.cell}
        height={props.rows * props.cell}
        onMouseMove={(e) => props.onHover?.(cellAt(e))}
        onMouseLeave={() => props.onHover?.(null)}
        onClick={(e) => {
          const at = cellAt(e);
          if (at !== null) props.onPick?.(at);
        }}
      />
    </div>
  );
}

/**
 * What a scale's colours mean: its quantity, and a gradient with the values at its ends (and
 * middle), or the names of its categories.
 *
 * @example
 * ```tsx
 * import { ColourLegend } from "./heatmap.tsx";
 * import { divergingScale } from "./colour_scale.ts";
 * const legend = <ColourLegend scale={divergingScale("metric (0 corrupt, 1 clean)", [1])} />;
 * ```
 */
export function ColourLegend(props: { scale: ColourScale }) {
  const s = props.scale;
  if (s.kind === "categorical") {
    return (
      <div class="legend" data-testid="legend">
        <span class="legend-label">{s.label}</span>
        {[...s.names.map((n, i) => [n, i] as const), ...(s.none ? [[s.none, -1] as const] : [])]
          .map((
            [n, i],
          ) => (
            <span key={n} class="swatch">
              <i style={{ background: cssColour(colourAt(s, i)) }} />
              {n}
            </span>
          ))}
      </div>
    );
  }
  return (
    <div class="legend" data-testid="legend">
      <span class="legend-label">
        {s.label}
        {s.kind === "sequential" && s.log ? " (log)" : ""}
      </span>
      <div class="gradient">
        <div class="bar" style={{ background: gradientCss(s) }} />
        <div class="ticks">
          {legendTicks(s).map((v, i) => <span key={i}>{formatNumber(v)}</span>)}
        </div>
      </div>
    </div>
  );
}
