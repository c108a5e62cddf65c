/// <reference lib="dom" />
/**
 * The one heatmap every analysis view draws with: a canvas of `rows × cols` cells coloured by a
 * `ColourScale`, as wide as its panel allows (cells shrink from `maxCell` to fit, the canvas drawn
 * at the screen's pixel ratio), axes with ticks (a name per row or column, or their indices
 * 0 … n−1 thinned so labels never crowd), the hovered cell's value in a tooltip, a highlighted row
 * and column, hover and click reported as a cell; and the legend that says what its colours mean.
 *
 * @module
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { colourAt, type ColourScale, cssColour, gradientCss, legendTicks } from "./colour_scale.ts";
import { formatNumber } from "../runs_rows.ts";
import { indexTicks } from "./ticks.ts";
import { useWidth } from "./use_width.ts";

/** A heatmap's data and what it reports. */
export interface HeatmapProps {
  testid: string;
  rows: number;
  cols: number;
  /** `[rows * cols]`, row-major; NaN is drawn grey (no data). */
  values: ArrayLike<number>;
  scale: ColourScale;
  /** The largest cell, in CSS pixels; cells shrink below it to fit the panel's width. */
  maxCell: number;
  /** A name per row (tokens, layers); without, the rows are ticked by index 0 … rows−1. */
  rowLabels?: string[] | undefined;
  /** A name per column; without, ticked by index. */
  colLabels?: string[] | undefined;
  /** What the rows count ("x", "query"), written beside their ticks. */
  rowTitle?: string | undefined;
  /** What the columns count ("y", "key"), written above their ticks. */
  colTitle?: string | undefined;
  /** Without axes (thumbnails); with them unless `false`. */
  axes?: boolean | undefined;
  /** A causal attention pattern: cells above the diagonal (key after query) are masked, left blank. */
  causal?: boolean | undefined;
  /** The tooltip of a cell; by default its row, column and value. */
  describe?: ((cell: [number, number]) => string) | undefined;
  /** A row and a column outlined (a token's, or the picked example's). */
  highlight?: { row?: number | undefined; col?: number | undefined } | undefined;
  /** One cell outlined in black (the patching partner's). */
  mark?: [number, number] | undefined;
  onHover?: ((cell: [number, number] | null) => void) | undefined;
  /** A click on a cell, with the click (its modifier keys). */
  onPick?: ((cell: [number, number], e: MouseEvent) => void) | undefined;
}

const CHAR = 6.2; // px per character of the 11 px tick labels
const LINE = 14; // px of one line of tick labels or a title
const TICK = 3; // px of a tick mark

/** Pixels a column of labels needs: the longest label, and a margin. */
function labelWidth(labels: readonly string[]): number {
  return Math.ceil(Math.max(1, ...labels.map((l) => l.length)) * CHAR) + 6;
}

/**
 * Where a heatmap of `rows × cols` cells of at most `maxCell` px goes in `width` px with its axes:
 * the cell's width and height, the plot's offset, the ticked rows and columns. Cells are square,
 * but named rows stay a label's height (heads' singular values: 32 columns, 4 rows).
 */
function layout(props: HeatmapProps, width: number) {
  const rowText = props.rowLabels ?? [String(props.rows - 1)];
  const colText = props.colLabels ?? [String(props.cols - 1)];
  const axes = props.axes !== false;
  const left = axes ? (props.rowTitle ? LINE : 0) + labelWidth(rowText) + TICK : 0;
  const top = axes ? (props.colTitle ? LINE : 0) + LINE + TICK : 0;
  // Room past the last column and row for half of their centred labels.
  const right = axes ? Math.ceil(labelWidth(colText) / 2) : 0;
  const bottom = axes ? LINE / 2 : 0;
  const cell = Math.max(0.5, Math.min(props.maxCell, (width - left - right) / props.cols));
  const rowH = props.rowLabels && axes ? Math.max(cell, Math.min(props.maxCell, LINE)) : cell;
  return {
    cell,
    rowH,
    left,
    top,
    right,
    bottom,
    rowTicks: axes ? indexTicks(props.rows, rowH, LINE - 2) : [],
    colTicks: axes ? indexTicks(props.cols, cell, labelWidth(colText)) : [],
  };
}

function draw(
  canvas: HTMLCanvasElement,
  props: HeatmapProps,
  [cell, rowH]: [number, number],
): void {
  const { rows, cols, values, scale, highlight } = props;
  const ctx = canvas.getContext("2d")!;
  const dpr = canvas.width / (cols * cell); // device pixels per CSS pixel
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  // Edges rounded to device pixels: cells of a fractional size tile without seams.
  const edge = (i: number) => Math.round(i * cell * dpr);
  const edgeY = (i: number) => Math.round(i * rowH * dpr);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (props.causal && c > r) continue; // masked: blank, not a weight of 0
      ctx.fillStyle = cssColour(colourAt(scale, values[r * cols + c] ?? NaN));
      ctx.fillRect(edge(c), edgeY(r), edge(c + 1) - edge(c), edgeY(r + 1) - edgeY(r));
    }
  }
  ctx.strokeStyle = "#e4572e";
  ctx.lineWidth = Math.max(1, Math.min(2, cell / 4)) * dpr;
  if (highlight?.row !== undefined) {
    ctx.strokeRect(0, edgeY(highlight.row), edge(cols), edgeY(1));
  }
  if (highlight?.col !== undefined) {
    ctx.strokeRect(edge(highlight.col), 0, edge(1), edgeY(rows));
  }
  if (props.mark !== undefined) {
    const [r, c] = props.mark;
    ctx.strokeStyle = "#111";
    ctx.strokeRect(edge(c), edgeY(r), edge(c + 1) - edge(c), edgeY(r + 1) - edgeY(r));
  }
}

/** The default tooltip: the cell's row and column (names or indices) and its value. */
function defaultDescribe(props: HeatmapProps, [r, c]: [number, number]): string {
  const name = (labels: string[] | undefined, title: string | undefined, i: number, what: string) =>
    labels?.[i] ?? `${title ?? what} ${i}`;
  const at = `${name(props.rowLabels, props.rowTitle, r, "row")}, ${
    name(props.colLabels, props.colTitle, c, "column")
  }`;
  if (props.causal && c > r) return `${at}: masked (the key comes after the query)`;
  const v = props.values[r * props.cols + c] ?? NaN;
  return `${at}: ${Number.isFinite(v) ? formatNumber(v) : "no data"}`;
}

/**
 * A canvas heatmap that fills its container's width (up to `maxCell` px a cell), with axes.
 * The canvas keeps `data-rows`, `data-cols`, `data-cell` and `data-cell-height` (CSS px a cell's
 * width and height) for tests; the
 * tooltip of the hovered cell is `${testid}-tip`, its `data-row`, `data-col` and `data-value`
 * saying which cell and what value.
 *
 * @example
 * ```tsx
 * import { Heatmap } from "./heatmap.tsx";
 * import { sequentialScale } from "./colour_scale.ts";
 * const view = (
 *   <Heatmap testid="demo" rows={2} cols={2} values={[0, 1, 2, 3]} maxCell={20}
 *     rowTitle="x" colTitle="y" scale={sequentialScale("value", [0, 3])} />
 * );
 * ```
 */
export function Heatmap(props: HeatmapProps) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hovered, setHovered] = useState<[number, number] | null>(null);
  const width = useWidth(box, props.cols * props.maxCell);
  const { cell, rowH, left, top, right, bottom, rowTicks, colTicks } = layout(props, width);
  const [w, h] = [props.cols * cell, props.rows * rowH];
  const rowTitleAcross = (props.rowTitle?.length ?? 0) * CHAR > h;
  const dpr = globalThis.devicePixelRatio || 1;
  const { row, col } = props.highlight ?? {};
  const [markRow, markCol] = props.mark ?? [];
  useEffect(() => draw(canvas.current!, props, [cell, rowH]), [
    props.values,
    props.scale,
    props.rows,
    props.cols,
    props.causal,
    cell,
    rowH,
    dpr,
    row,
    col,
    markRow,
    markCol,
  ]);
  const cellAt = (e: MouseEvent): [number, number] | null => {
    const el = e.currentTarget as HTMLCanvasElement;
    const r = Math.floor((e.offsetY / el.clientHeight) * props.rows);
    const c = Math.floor((e.offsetX / el.clientWidth) * props.cols);
    return r >= 0 && r < props.rows && c >= 0 && c < props.cols ? [r, c] : null;
  };
  const hover = (at: [number, number] | null) => {
    if (at?.[0] === hovered?.[0] && at?.[1] === hovered?.[1]) return;
    setHovered(at);
    props.onHover?.(at);
  };
  const tip = hovered === null ? null : (() => {
    const [r, c] = hovered;
    // Fixed to the window beside the cell, on the side with more room: it never widens a panel.
    const at = canvas.current!.getBoundingClientRect();
    const [x, y] = [at.left + (c + 0.5) * cell, at.top + (r + 0.5) * rowH];
    const gap = cell / 2 + 6;
    const horizontal = x < innerWidth / 2
      ? { left: `${x + gap}px` }
      : { right: `${innerWidth - x + gap}px` };
    const vertical = y < innerHeight / 2
      ? { top: `${y + gap}px` }
      : { bottom: `${innerHeight - y + gap}px` };
    return (
      <div
        class="heatmap-tip"
        data-testid={`${props.testid}-tip`}
        data-row={r}
        data-col={c}
        data-value={props.causal && c > r ? "" : String(props.values[r * props.cols + c] ?? NaN)}
        style={{ ...horizontal, ...vertical }}
      >
        {(props.describe ?? ((at) => defaultDescribe(props, at)))(hovered)}
      </div>
    );
  })();
  return (
    <div class="heatmap" ref={box}>
      <div
        class="heatmap-plot"
        style={{ width: `${left + w + right}px`, height: `${top + h + bottom}px` }}
      >
        <svg
          class="heatmap-axes"
          width={left + w + right}
          height={top + h + bottom}
          aria-hidden="true"
        >
          {props.colTitle && (
            <text
              class="axis-title"
              x={rowTitleAcross ? left + w : left + w / 2}
              y={LINE - 3}
              style={rowTitleAcross ? { textAnchor: "end" } : undefined}
            >
              {props.colTitle}
            </text>
          )}
          {props.rowTitle && (rowTitleAcross
            ? (
              // Too long for the rows' height (the links' 2 rows): across the top-left corner.
              <text class="axis-title" x={0} y={LINE - 3} style={{ textAnchor: "start" }}>
                {props.rowTitle} ↓
              </text>
            )
            : (
              <text
                class="axis-title"
                transform={`translate(${LINE - 3}, ${top + h / 2}) rotate(-90)`}
              >
                {props.rowTitle}
              </text>
            ))}
          {colTicks.map((c) => {
            const x = left + (c + 0.5) * cell;
            return (
              <g key={`c${c}`} class="tick">
                <line x1={x} x2={x} y1={top - TICK} y2={top} />
                <text class="col-tick" x={x} y={top - TICK - 3}>
                  {props.colLabels?.[c] ?? String(c)}
                </text>
              </g>
            );
          })}
          {rowTicks.map((r) => {
            const y = top + (r + 0.5) * rowH;
            return (
              <g key={`r${r}`} class="tick">
                <line x1={left - TICK} x2={left} y1={y} y2={y} />
                <text class="row-tick" x={left - TICK - 2} y={y}>
                  {props.rowLabels?.[r] ?? String(r)}
                </text>
              </g>
            );
          })}
        </svg>
        <canvas
          ref={canvas}
          data-testid={props.testid}
          data-rows={props.rows}
          data-cols={props.cols}
          data-cell={cell}
          data-cell-height={rowH}
          width={Math.round(w * dpr)}
          height={Math.round(h * dpr)}
          style={{ left: `${left}px`, top: `${top}px`, width: `${w}px`, height: `${h}px` }}
          onMouseMove={(e) => hover(cellAt(e))}
          onMouseLeave={() => hover(null)}
          onClick={(e) => {
            const at = cellAt(e);
            if (at !== null) props.onPick?.(at, e);
          }}
        />
        {hovered !== null && (
          <div
            class="heatmap-cursor"
            style={{
              left: `${left + hovered[1] * cell}px`,
              top: `${top + hovered[0] * rowH}px`,
              width: `${cell}px`,
              height: `${rowH}px`,
            }}
          />
        )}
        {tip}
      </div>
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
