/// <reference lib="dom" />
/**
 * The phase diagram: one cell per value of the x and y axes, coloured by the median over its
 * seeds of the steps to test accuracy 0.99 (viridis on a log scale: dark is early), a cell whose
 * median is never hatched grey; hovering a cell says its median, quartiles, range and how many
 * never got there; clicking it overlays its members' curves and opens them in the run views.
 * Selects choose the axes when the sweep has more than two, and the value each other axis is held at.
 *
 * @module
 */

import { signal } from "@preact/signals";
import { colourAt, cssColour, gradientCss, sequentialScale } from "../analysis/colour_scale.ts";
import { type Cell, formatSteps } from "./cells.ts";
import { axes, chooseCell, chosenCell, detail, grid, wantedAxes } from "./state.ts";

const hovered = signal<Cell | null>(null);

/** What hovering a cell says. */
function describe(c: Cell): string {
  const at = ([[axes.value?.x, c.x], [axes.value?.y, c.y]] as const)
    .filter(([k]) => k != null).map(([k, v]) => `${k}=${v}`).join(" ");
  if (c.steps.length === 0) return `${at}: no lines yet (${c.waiting} waiting)`;
  const waiting = c.waiting > 0 ? `, ${c.waiting} waiting` : "";
  if (c.never === c.steps.length) return `${at}: never (${c.never} of ${c.never})${waiting}`;
  const s = c.spread;
  return `${at}: median ${formatSteps(s.median)}, IQR ${formatSteps(s.q1)}–${formatSteps(s.q3)}, ` +
    `range ${formatSteps(s.min)}–${formatSteps(s.max)}; ${c.never} of ${c.steps.length} never` +
    waiting;
}

/** Puts `key` on one axis, the other staying (or swapping, if `key` was on it). */
function pickAxis(which: "x" | "y", key: string): void {
  const now = axes.peek();
  const other = which === "x" ? "y" : "x";
  const next = { x: now?.x ?? null, y: now?.y ?? null, [which]: key };
  if (next[other] === key) next[other] = now?.[which] ?? null;
  wantedAxes.value = { ...wantedAxes.value, ...next };
  chosenCell.value = null;
}

function AxisSelect(props: { which: "x" | "y" }) {
  const d = detail.value!;
  const value = axes.value?.[props.which] ?? "";
  return (
    <label>
      {props.which}{" "}
      <select
        data-testid={`phase-axis-${props.which}`}
        value={value}
        onChange={(e) => pickAxis(props.which, e.currentTarget.value)}
      >
        {d.axes.map((a) => <option key={a.key} value={a.key}>{a.key}</option>)}
      </select>
    </label>
  );
}

function HeldSelects() {
  const d = detail.value!;
  const fixed = axes.value?.fixed ?? {};
  return (
    <>
      {Object.entries(fixed).map(([key, v]) => {
        const values = d.axes.find((a) => a.key === key)?.values ?? [];
        return (
          <label key={key}>
            {key}{" "}
            <select
              data-testid={`phase-held-${key}`}
              value={String(values.indexOf(v))}
              onChange={(e) => {
                const held = values[Number(e.currentTarget.value)] ?? null;
                wantedAxes.value = {
                  ...wantedAxes.value,
                  fixed: { ...wantedAxes.value.fixed, [key]: held },
                };
                chosenCell.value = null;
              }}
            >
              {values.map((x, i) => <option key={i} value={String(i)}>{String(x)}</option>)}
            </select>
          </label>
        );
      })}
    </>
  );
}

/**
 * The diagram with its axis choice and legend.
 *
 * @example
 * ```tsx
 * import { PhaseDiagram } from "./phase_diagram.tsx";
 * const view = <PhaseDiagram />;
 * ```
 */
export function PhaseDiagram() {
  const d = detail.value;
  const choice = axes.value;
  if (d === null || choice === null) return null;
  const rows = grid.value;
  const medians = rows.flat().map((c) => c.spread.median);
  const scale = sequentialScale("steps to test acc 0.99", medians, { log: true });
  const chosen = chosenCell.value;
  return (
    <div class="phase">
      {d.axes.length > 2 && (
        <p class="hint">
          <AxisSelect which="x" /> <AxisSelect which="y" /> <HeldSelects />
        </p>
      )}
      <table class="phase-diagram" data-testid="phase-diagram">
        <thead>
          <tr>
            <th>{choice.y === null ? "" : `${choice.y} \\ `}{choice.x ?? ""}</th>
            {rows[0]?.map((c, j) => <th key={j}>{String(c.x ?? "all")}</th>)}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              <th>{String(row[0]?.y ?? "all")}</th>
              {row.map((c, j) => {
                const m = c.spread.median;
                const kind = Number.isNaN(m) ? "waiting" : m === Infinity ? "never" : "reached";
                const style = kind === "reached"
                  ? {
                    background: cssColour(colourAt(scale, m)),
                    color: m > Math.sqrt(scale.min * scale.max) ? "#000" : "#fff",
                  }
                  : {};
                const on = chosen?.[0] === i && chosen?.[1] === j;
                return (
                  <td
                    key={j}
                    class={`phase-cell ${kind}${on ? " chosen" : ""}`}
                    style={style}
                    data-testid={`phase-cell-${i}-${j}`}
                    data-median={String(m)}
                    title={describe(c)}
                    onMouseEnter={() => hovered.value = c}
                    onMouseLeave={() => hovered.value = null}
                    onClick={() => chooseCell(i, j)}
                  >
                    {formatSteps(m)}
                    <small>{c.steps.length}/{c.members.length}</small>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint phase-hover" data-testid="phase-hover">
        {hovered.value === null
          ? "hover a cell for its spread; click it for its members"
          : describe(hovered.value)}
      </p>
      <p class="hint legend">
        {medians.some(Number.isFinite) && (
          <>
            <span class="swatch-bar" style={{ background: gradientCss(scale) }} />{" "}
            {formatSteps(scale.min)} … {formatSteps(scale.max)} steps (median over seeds, log){" "}
          </>
        )}
        <span class="phase-cell never swatch" />{" "}
        never (half or more of the seeds never reached 0.99)
      </p>
    </div>
  );
}
