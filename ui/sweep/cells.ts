/**
 * The phase diagram's cells: a sweep's members grouped by the values of two swept axes (x and y;
 * any further axis held at one chosen value), each cell's steps-to-generalise over its seeds
 * summarised (`stats.ts`). A member that has not landed, or has no metrics line yet, is waiting;
 * one with lines that has not reached 0.99 counts as never (so far: a live sweep's cells change).
 *
 * @module
 */

import type { SweepDetail, SweepMemberRow } from "../types.ts";
import { type Spread, spread } from "./stats.ts";

/** A value an axis takes. */
export type AxisValue = number | string | boolean | null;

/** Which axes the diagram shows, and where the others are held. */
export interface AxisChoice {
  /** The x axis's key, or null with no axes (seeds only). */
  x: string | null;
  /** The y axis's key, or null with fewer than two axes. */
  y: string | null;
  /** Every other axis' key and the value it is held at. */
  fixed: Record<string, AxisValue>;
}

/**
 * The axes to draw: `wanted` where it names swept axes, else the first two axes with more than one
 * value (then any); every other axis held at its first value unless `wanted.fixed` says another.
 *
 * @example
 * ```ts
 * import { chooseAxes } from "./cells.ts";
 * const axes = [{ key: "lr", values: [0.001] }, { key: "wd", values: [0.3, 1] }, { key: "frac", values: [0.3, 0.5] }];
 * chooseAxes(axes); // { x: "wd", y: "frac", fixed: { lr: 0.001 } }
 * chooseAxes(axes, { x: "lr", y: "wd" }); // { x: "lr", y: "wd", fixed: { frac: 0.3 } }
 * ```
 */
export function chooseAxes(
  axes: SweepDetail["axes"],
  wanted: { x?: string | null; y?: string | null; fixed?: Record<string, AxisValue> } = {},
): AxisChoice {
  const keys = axes.map((a) => a.key);
  const ranked = [
    ...axes.filter((a) => a.values.length > 1).map((a) => a.key),
    ...axes.filter((a) => a.values.length <= 1).map((a) => a.key),
  ];
  const x = wanted.x != null && keys.includes(wanted.x) ? wanted.x : ranked[0] ?? null;
  const rest = ranked.filter((k) => k !== x);
  const y = wanted.y != null && wanted.y !== x && keys.includes(wanted.y)
    ? wanted.y
    : rest[0] ?? null;
  const fixed: Record<string, AxisValue> = {};
  for (const a of axes) {
    if (a.key === x || a.key === y) continue;
    const held = wanted.fixed?.[a.key];
    fixed[a.key] = held !== undefined && a.values.includes(held) ? held : a.values[0] ?? null;
  }
  return { x, y, fixed };
}

/** One cell: its members and their steps-to-generalise. */
export interface Cell {
  /** Its x and y values (null for an absent axis). */
  x: AxisValue;
  y: AxisValue;
  members: SweepMemberRow[];
  /** Steps-to-generalise of the members with lines: `Infinity` for never (so far). */
  steps: number[];
  /** How many of `steps` are never. */
  never: number;
  /** Members with no lines yet. */
  waiting: number;
  /** Of `steps`; NaN throughout with none. */
  spread: Spread;
}

/**
 * The cells of the diagram, rows of y (in the axis' order) each holding x's values, members
 * matched by value.
 *
 * @example
 * ```ts
 * import { cells } from "./cells.ts";
 * const m = (wd: number, reached: number | null) => ({
 *   name: `${wd}`, run: `s/${wd}`, values: { wd }, status: "done" as const, curve: [],
 *   outcome: { reached, step: 400, trainLoss: 0, testLoss: 0, testAcc: 1 },
 * });
 * const detail = { name: "s", preset: "smoke", seeds: 2, axes: [{ key: "wd", values: [1] }], members: [m(1, 100), m(1, null)] };
 * const [cell] = cells(detail, { x: "wd", y: null, fixed: {} })[0]!;
 * [cell!.steps, cell!.never]; // [[100, Infinity], 1]
 * ```
 */
export function cells(detail: SweepDetail, choice: AxisChoice): Cell[][] {
  const valuesOf = (key: string | null): AxisValue[] =>
    key === null ? [null] : detail.axes.find((a) => a.key === key)?.values ?? [null];
  const held = detail.members.filter((m) =>
    Object.entries(choice.fixed).every(([k, v]) => m.values[k] === v)
  );
  return valuesOf(choice.y).map((y) =>
    valuesOf(choice.x).map((x) => {
      const members = held.filter((m) =>
        (choice.x === null || m.values[choice.x] === x) &&
        (choice.y === null || m.values[choice.y] === y)
      );
      const steps = members.flatMap((m) =>
        m.outcome === null ? [] : [m.outcome.reached ?? Infinity]
      );
      return {
        x,
        y,
        members,
        steps,
        never: steps.filter((s) => s === Infinity).length,
        waiting: members.length - steps.length,
        spread: spread(steps),
      };
    })
  );
}

/**
 * A step count for the page: "never" for `Infinity`, "–" for none.
 *
 * @example
 * ```ts
 * import { formatSteps } from "./cells.ts";
 * [formatSteps(450), formatSteps(Infinity), formatSteps(NaN)]; // ["450", "never", "–"]
 * ```
 */
export function formatSteps(v: number): string {
  return Number.isNaN(v) ? "–" : v === Infinity ? "never" : String(Math.round(v));
}
