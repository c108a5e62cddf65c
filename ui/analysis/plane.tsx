/// <reference lib="dom" />
/**
 * The one plane of labelled points (the key frequencies' circles, the embedding's principal
 * components): the origin at the centre with its axes, one scale for both (a circle stays round),
 * each point coloured and its coordinates on hover, the labels written when there are few enough.
 *
 * @module
 */

import { planePoints } from "./geometry.ts";

/** A plane's points and how they are drawn. */
export interface PlaneProps {
  testid: string;
  xs: readonly number[];
  ys: readonly number[];
  /** The points' names: written beside them and on hover. */
  labels: readonly string[];
  /** CSS colour of each point. */
  colours: readonly string[];
  /** Pixels of the square. */
  size: number;
  /** Points drawn larger and outlined (the picked example's tokens). */
  ringed?: readonly number[] | undefined;
  /** The axes' titles, written beside the square with an arrow to the positive end. */
  xTitle?: string | undefined;
  yTitle?: string | undefined;
}

const PAD = 16;
const MARGIN = 16;
const MAX_LABELS = 40; // beyond 40 written labels a plane is unreadable: the rest on hover

/**
 * Labelled points in a square about the origin.
 *
 * @example
 * ```tsx
 * import { Plane } from "./plane.tsx";
 * const view = (
 *   <Plane testid="demo" xs={[1, -1]} ys={[0, 1]} labels={["a", "b"]} colours={["red", "blue"]}
 *     size={200} />
 * );
 * ```
 */
export function Plane(props: PlaneProps) {
  const { size, xs, ys } = props;
  const every = Math.ceil(xs.length / MAX_LABELS);
  // Titles go in a margin left of and under the square, where no point can cover them.
  const m = props.xTitle || props.yTitle ? MARGIN : 0;
  return (
    <svg
      class="plane"
      data-testid={props.testid}
      data-points={xs.length}
      width={size + m}
      height={size + m}
      viewBox={`${-m} 0 ${size + m} ${size + m}`}
    >
      <line x1={0} x2={size} y1={size / 2} y2={size / 2} class="zero" />
      <line x1={size / 2} x2={size / 2} y1={0} y2={size} class="zero" />
      {props.xTitle && (
        <text x={size / 2} y={size + m - 4} class="axis-title">{props.xTitle} →</text>
      )}
      {props.yTitle && (
        <text transform={`translate(${-m + 11}, ${size / 2}) rotate(-90)`} class="axis-title">
          {props.yTitle} →
        </text>
      )}
      {planePoints(xs, ys, size, PAD).map(([x, y], i) => {
        const ringed = props.ringed?.includes(i) ?? false;
        const label = props.labels[i] ?? String(i);
        return (
          <g key={i}>
            <circle
              cx={x}
              cy={y}
              r={ringed ? 5 : 3}
              class={ringed ? "ringed" : ""}
              fill={props.colours[i] ?? "grey"}
            >
              <title>{`${label}: (${xs[i]?.toFixed(3)}, ${ys[i]?.toFixed(3)})`}</title>
            </circle>
            {i % every === 0 && <text x={x + 4} y={y - 3} class="point-label">{label}</text>}
          </g>
        );
      })}
    </svg>
  );
}
