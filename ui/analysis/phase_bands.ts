/// <reference lib="dom" />
/**
 * The phases of grokking and the slider's step drawn on `../chart.tsx`'s uPlot charts as series
 * with their own path builders: a phase series's data (`phaseBands`) holds, at each step of the
 * phase, the step its band ends at, and its paths fill the plot's height from there; the marker's
 * data (`stepMarker`) is non-null at one step, where a vertical rule is drawn. Being data, they
 * change with `setData` like the lines (the chart rebuilds only when the series' looks change), and
 * uPlot's legend names them with their colours. They live on a scale of their own ("phase") so
 * they never stretch the y axis.
 *
 * @module
 */

import type uPlot from "uplot";

/** The bands' fills, in `grokkingPhases` order (translucent: the lines stay readable). */
export const PHASE_FILLS: Record<string, string> = {
  "memorisation": "rgba(214, 39, 40, 0.10)",
  "circuit formation": "rgba(255, 127, 14, 0.12)",
  "cleanup": "rgba(44, 160, 44, 0.14)",
};

function bandPaths(u: uPlot, si: number): uPlot.Series.Paths {
  const xs = u.data[0];
  const ends = u.data[si]!;
  const fill = new Path2D();
  for (let i = 0; i < xs.length; i++) {
    const end = ends[i];
    const inside = i > 0 && ends[i - 1] !== null && ends[i - 1] !== undefined;
    if (end === null || end === undefined || inside) continue; // a band starts at its first step
    const x0 = u.valToPos(xs[i]!, "x", true);
    const x1 = u.valToPos(end, "x", true);
    fill.rect(x0, u.bbox.top, Math.max(x1 - x0, 1), u.bbox.height);
  }
  return { fill, stroke: new Path2D(), flags: 0 };
}

function rulePaths(u: uPlot, si: number): uPlot.Series.Paths {
  const stroke = new Path2D();
  const at = u.data[si]!.findIndex((v) => v !== null && v !== undefined);
  if (at >= 0) {
    const x = u.valToPos(u.data[0][at]!, "x", true);
    stroke.moveTo(x, u.bbox.top);
    stroke.lineTo(x, u.bbox.top + u.bbox.height);
  }
  return { stroke, flags: 0 };
}

/**
 * The series of one phase's band.
 *
 * @example
 * ```ts
 * import { phaseSeries } from "./phase_bands.ts";
 * const s = phaseSeries("cleanup");
 * s.label; // "cleanup"
 * ```
 */
export function phaseSeries(name: string): uPlot.Series {
  return {
    label: name,
    scale: "phase",
    fill: PHASE_FILLS[name] ?? "rgba(0, 0, 0, 0.08)",
    stroke: PHASE_FILLS[name] ?? "rgba(0, 0, 0, 0.08)",
    width: 0,
    paths: bandPaths,
    points: { show: false },
    value: (_u: uPlot, v: number | null) => (v === null ? "" : "here"),
  };
}

/**
 * The series of the slider's step: a dashed vertical rule.
 *
 * @example
 * ```ts
 * import { markerSeries } from "./phase_bands.ts";
 * markerSeries().label; // "checkpoint"
 * ```
 */
export function markerSeries(): uPlot.Series {
  return {
    label: "checkpoint",
    scale: "phase",
    stroke: "#333",
    width: 1,
    dash: [4, 4],
    paths: rulePaths,
    points: { show: false },
    value: (_u: uPlot, v: number | null) => (v === null ? "" : "shown"),
  };
}
