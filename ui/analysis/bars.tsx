/// <reference lib="dom" />
/**
 * The one bar chart of the analysis views (Fourier spectrum, clusters, direct logit attribution,
 * logit lens, aliases): SVG bars from a zero line, positive blue and negative red, highlighted ones
 * orange, as wide as its panel (every bar in view at any p), a y axis with round ticks and grid
 * lines, both axes titled, the x labels thinned so they never crowd (highlighted bars always
 * labelled), and each bar's value on hover.
 *
 * @module
 */

import { useRef } from "preact/hooks";
import { formatNumber } from "../runs_rows.ts";
import { barDomain } from "./geometry.ts";
import { indexTicks, valueTicks } from "./ticks.ts";
import { useWidth } from "./use_width.ts";

/** A bar chart's data. */
export interface BarsProps {
  testid: string;
  labels: string[];
  values: number[];
  /** What the values are: the y axis's title and the chart's accessible name. */
  yLabel: string;
  /** What the bars are: the x axis's title ("frequency k", "token i"). */
  xLabel: string;
  /** Labels of bars drawn highlighted (key frequencies). */
  highlight?: ReadonlySet<string> | undefined;
  /** Each bar's hover text, when more than `label: value` (the logit lens's logit and rank). */
  titles?: readonly string[] | undefined;
  /** A fixed value range (a probability's 0..1), else the values' own with 0 (`barDomain`). */
  domain?: readonly [number, number] | undefined;
}

const TOP = 10;
const PLOT = 130; // px of the bars' range
const LABELS = 44; // px under the plot for x labels written at an angle
const TITLE = 16; // px of an axis title
const HEIGHT = TOP + PLOT + LABELS + TITLE;
const CHAR = 6; // px per character of the 10 px labels
const MAX_SLOT = 28; // px a bar's slot is at most: a few bars stay bars, not slabs

/**
 * Vertical bars with their axes, filling the container's width.
 *
 * @example
 * ```tsx
 * import { BarChart } from "./bars.tsx";
 * const view = (
 *   <BarChart testid="demo" labels={["a", "b"]} values={[1, -2]} yLabel="value" xLabel="part" />
 * );
 * ```
 */
export function BarChart(props: BarsProps) {
  const box = useRef<HTMLDivElement>(null);
  const n = props.values.length;
  const [lo, hi] = props.domain ?? barDomain(props.values);
  const yTicks = valueTicks(lo, hi, 5);
  const left = TITLE + Math.max(...yTicks.map((v) => formatNumber(v).length), 1) * CHAR + 8;
  const width = useWidth(box, left + n * MAX_SLOT + 8);
  const slot = Math.min(MAX_SLOT, Math.max(1, width - left - 8) / Math.max(n, 1));
  const right = left + n * slot;
  // A few bars are narrower than their axis title: the title starts at the axis and widens the chart.
  const titleWidth = props.xLabel.length * CHAR;
  const titleX = Math.max((left + right) / 2, left + titleWidth / 2);
  const svgWidth = Math.max(right, titleX + titleWidth / 2) + 8;
  const y = (v: number) => TOP + ((hi - v) / (hi - lo)) * PLOT;
  // Angled labels need a line's height between them; highlighted bars are labelled regardless.
  const ticked = new Set(indexTicks(n, slot, 12));
  return (
    <div class="bars-box" ref={box}>
      <svg
        class="bars"
        data-testid={props.testid}
        data-bars={n}
        aria-label={props.yLabel}
        width={svgWidth}
        height={HEIGHT}
        viewBox={`0 0 ${svgWidth} ${HEIGHT}`}
      >
        <text class="axis-title" transform={`translate(11, ${TOP + PLOT / 2}) rotate(-90)`}>
          {props.yLabel}
        </text>
        <text class="axis-title" x={titleX} y={HEIGHT - 4}>{props.xLabel}</text>
        {yTicks.map((v) => (
          <g key={v} class="y-tick">
            <line class="grid" x1={left} x2={right} y1={y(v)} y2={y(v)} />
            <text x={left - 4} y={y(v)}>{formatNumber(v)}</text>
          </g>
        ))}
        <line x1={left} x2={right} y1={y(0)} y2={y(0)} class="zero" />
        {props.values.map((v, i) => {
          const label = props.labels[i] ?? String(i);
          const x = left + i * slot;
          const key = props.highlight?.has(label) ?? false;
          const cls = key ? "bar key" : v < 0 ? "bar neg" : "bar";
          return (
            <g key={i} class="slot">
              <title>{props.titles?.[i] ?? `${label}: ${formatNumber(v)}`}</title>
              {/* The whole slot answers the hover: a bar of 0 is as easy to read as a tall one. */}
              <rect class="hit" x={x} width={slot} y={TOP} height={PLOT} />
              <rect
                class={cls}
                x={x + (slot > 3 ? 1 : 0)}
                width={slot > 3 ? slot - 2 : slot}
                y={Math.min(y(v), y(0))}
                height={Math.max(Math.abs(y(v) - y(0)), 0.5)}
              />
              {(ticked.has(i) || key) && (
                <text
                  class={key ? "label key" : "label"}
                  transform={`translate(${x + slot / 2}, ${TOP + PLOT + 10}) rotate(-40)`}
                >
                  {label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
