/// <reference lib="dom" />
/**
 * The sweeps section: the sweep folders under the runs folder, and for the open one its members
 * table, its phase diagram and the chosen cell's curves. A chosen cell's members are checked in
 * the run views below (curves, checkpoints, config, analysis), as any run.
 *
 * @module
 */

import { CellCurves } from "./cell_curves.tsx";
import { MembersTable } from "./members_table.tsx";
import { PhaseDiagram } from "./phase_diagram.tsx";
import { detail, openSweep, showSweep, sweeps } from "./state.ts";

/**
 * The sweeps section (nothing when the runs folder holds no sweep).
 *
 * @example
 * ```tsx
 * import { SweepPanel } from "./sweep_panel.tsx";
 * const view = <SweepPanel />;
 * ```
 */
export function SweepPanel() {
  const list = sweeps.value;
  if (list.length === 0) return null;
  return (
    <section class="sweeps" data-testid="sweeps">
      <h2>sweeps</h2>
      <ul class="sweep-list">
        {list.map((s) => (
          <li key={s.name}>
            <button
              type="button"
              data-testid={`sweep-open-${s.name}`}
              class={openSweep.value === s.name ? "chosen" : ""}
              onClick={() => showSweep(openSweep.peek() === s.name ? null : s.name)}
            >
              {s.name}
            </button>{" "}
            <span class="hint" data-testid={`sweep-summary-${s.name}`}>
              {s.preset}, {s.axes.join(" × ") || "seeds"}
              {s.seeds > 1 ? ` × ${s.seeds} seeds` : ""}: {s.landed} of {s.members} landed, {s.done}
              {" "}
              done
            </span>
          </li>
        ))}
      </ul>
      {openSweep.value !== null && detail.value === null && <p class="hint">loading…</p>}
      {detail.value !== null && (
        <>
          <div class="sweep-views">
            <PhaseDiagram />
            <CellCurves />
          </div>
          <MembersTable />
        </>
      )}
    </section>
  );
}
