/// <reference lib="dom" />
/**
 * The one bar chart of the analysis views (Fourier spectrum, direct logit attribution, logit
 * lens): SVG bars from a zero line, positive blue and negative red, highlighted ones orange, a
 * label under each (every k-th when there are many) and each bar's value on hover.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import { barDomain } from "./geometry.ts";

/** A bar chart's data. */
export interface BarsProps {
  testid: string;
  labels: string[];
  values: number[];
  /** What the values are (the chart's accessible name; the view writes it as a caption). */
  yLabel: string;
  /** Labels of bars drawn highlighted (key frequencies). */
  highlight?: ReadonlySet<string> | undefined;
  /** Each bar's hover text, when more than `label: value` (the logit lens's logit and rank). */
  titles?: readonly string[] | undefined;
  /** A fixed value range (a probability's 0..1), else the values' own with 0 (`barDomain`). */
  domain?: readonly [number, number] | undefined;
}

const HEIGHT = 200;
const TOP = 10;
const BOTTOM = 60; // room for labels written at an angle
const LEFT = 56;
const MAX_LABELS = 60;

/**
 * Vertical bars with their labels.
 *
 * @example
 * ```tsx
 * import { BarChart } from "./bars.tsx";
 * const view = <BarChart testid="demo" labels={["a", "b"]} values={[1, -2]} yLabel="value" />;
 * ```
 */
export function BarChart(props: BarsProps) {
  const n = props.values.length;
  const slot = Math.max(6, Math.min(28, 900 / Math.max(n, 1)));
  const width = LEFT + n * slot + 8;
  const [lo, hi] = props.domain ?? barDomain(props.values);
  const y = (v: number) => TOP + ((hi - v) / (hi - lo)) * (HEIGHT - TOP - BOTTOM);
  const every = Math.ceil(n / MAX_LABELS);
  return (
    <svg
      class="bars"
      data-testid={props.testid}
      data-bars={n}
      aria-label={props.yLabel}
      width={width}
      height={HEIGHT}
      viewBox={`0 0 ${width} ${HEIGHT}`}
    >
      <text x={4} y={TOP + 8} class="axis">{formatNumber(hi)}</text>
      <text x={4} y={HEIGHT - BOTTOM} class="axis">{formatNumber(lo)}</text>
      <line x1={LEFT} x2={width} y1={y(0)} y2={y(0)} class="zero" />
      {props.values.map((v, i) => {
        const label = props.labels[i] ?? String(i);
        const x = LEFT + i * slot;
        const cls = props.highlight?.has(label) ? "bar key" : v < 0 ? "bar neg" : "bar";
        return (
          <g key={i}>
            <rect
              class={cls}
              x={x + 1}
              width={slot - 2}
              y={Math.min(y(v), y(0))}
              height={Math.max(Math.abs(y(v) - y(0)), 0.5)}
            >
              <title>{props.titles?.[i] ?? `${label}: ${formatNumber(v)}`}</title>
            </rect>
            {i % every === 0 && (
              <text
                class="label"
                transform={`translate(${x + slot / 2}, ${HEIGHT - BOTTOM + 10}) rotate(-40)`}
              >
                {label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
