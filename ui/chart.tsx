/// <reference lib="dom" />
/**
 * A thin wrapper around uPlot: one plot per mount, `setData` when only the numbers changed (the
 * live case), a new plot when the set of lines or the scale changed, the width following the
 * container.
 *
 * @module
 */

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { formatTick, logTicks } from "./log_axis.ts";

/** What a chart shows. */
export interface ChartProps {
  /** The container's `data-testid`. */
  testid: string;
  title: string;
  /** The y axis's name. */
  yLabel: string;
  /** A log y axis (loss) rather than a linear one from 0 to 1 (accuracy). */
  log: boolean;
  /** A log step axis (the steps must be positive): the early steps spread out. */
  logX?: boolean;
  /** The linear axis's range instead of 0 to 1 (a cosine that may be negative). */
  range?: [number, number];
  /** One entry per line, after the x series. */
  series: uPlot.Series[];
  /** `[steps, ...one array per line]`, `null` where a line has no point. */
  data: uPlot.AlignedData;
}

const HEIGHT = 320;

/** A log axis's ticks (`log_axis.ts`): uPlot passes null for those it leaves unlabelled. */
const LOG_AXIS = {
  splits: (_u: uPlot, _i: number, min: number, max: number) => logTicks(min, max),
  values: (_u: uPlot, ticks: (number | null)[]) =>
    ticks.map((v) => v === null ? "" : formatTick(v)),
};

function options(props: ChartProps, width: number): uPlot.Options {
  return {
    title: props.title,
    width,
    height: HEIGHT,
    // Step is a count, not a time; accuracy keeps its whole 0..1 range so runs compare at a glance.
    scales: {
      x: props.logX ? { time: false, distr: 3, log: 10 } : { time: false },
      y: props.log ? { distr: 3, log: 10 } : { range: props.range ?? [0, 1] },
    },
    axes: [
      { label: props.logX ? "step (log)" : "step", ...(props.logX ? LOG_AXIS : {}) },
      {
        label: props.yLabel,
        size: 60,
        space: 24, // px between labels: room for every second decade of a grokking run's loss
        ...(props.log ? LOG_AXIS : {}),
      },
    ],
    series: [{ label: "step" }, ...props.series],
    cursor: { sync: { key: "curves" } },
    legend: { live: true },
  };
}

function shapeKey(props: ChartProps): string {
  return JSON.stringify([
    props.log,
    props.logX,
    props.range,
    props.series.map((s) => [s.label, s.stroke, s.dash]),
  ]);
}

/**
 * A uPlot chart in a `div` that fills its container's width.
 *
 * @example
 * ```tsx
 * import { Chart } from "./chart.tsx";
 * const chart = (
 *   <Chart testid="loss-chart" title="loss" yLabel="loss" log
 *     series={[{ label: "a train/loss", stroke: "#1f77b4" }]} data={[[0, 50], [3.2, 0.19]]} />
 * );
 * ```
 */
export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = useRef("");

  useEffect(() => {
    const el = box.current!;
    const key = shapeKey(props);
    if (plot.current !== null && shape.current === key) {
      plot.current.setData(props.data);
      return;
    }
    plot.current?.destroy();
    plot.current = new uPlot(options(props, Math.max(el.clientWidth, 200)), props.data, el);
    shape.current = key;
  }, [props.data, props.series, props.log, props.logX]);

  useEffect(() => {
    const el = box.current!;
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  // `data-points`: how many steps are drawn, so a test (or a person) can see the curve grow.
  return (
    <div
      class="chart"
      data-testid={props.testid}
      data-points={props.data[0]?.length ?? 0}
      ref={box}
    />
  );
}
