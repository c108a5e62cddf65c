/// <reference lib="dom" />
/**
 * The open sweep's members, one row each: its swept values and seed, its status, the step where
 * test accuracy first reached 0.99 (or never, so far), and its last losses and test accuracy.
 *
 * @module
 */

import type { SweepMemberRow } from "../types.ts";
import { formatSteps } from "./cells.ts";
import { detail } from "./state.ts";

function num(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : v.toPrecision(3);
}

function reached(m: SweepMemberRow): string {
  if (m.outcome === null) return "–";
  return m.outcome.reached === null
    ? `never (by ${m.outcome.step})`
    : formatSteps(m.outcome.reached);
}

/**
 * The members table.
 *
 * @example
 * ```tsx
 * import { MembersTable } from "./members_table.tsx";
 * const view = <MembersTable />;
 * ```
 */
export function MembersTable() {
  const d = detail.value;
  if (d === null) return null;
  const keys = [...d.axes.map((a) => a.key), ...(d.seeds > 1 ? ["seed"] : [])];
  return (
    <table data-testid="sweep-table">
      <thead>
        <tr>
          <th>member</th>
          {keys.map((k) => <th key={k}>{k}</th>)}
          <th>status</th>
          <th>test acc ≥ 0.99 at</th>
          <th>train loss</th>
          <th>test loss</th>
          <th>test acc</th>
        </tr>
      </thead>
      <tbody>
        {d.members.map((m) => (
          <tr key={m.name} data-testid={`sweep-row-${m.name}`}>
            <td class="col-name">{m.name}</td>
            {keys.map((k) => <td key={k} data-key={k}>{String(m.values[k] ?? "–")}</td>)}
            <td class={m.status}>{m.status}</td>
            <td data-testid={`sweep-reached-${m.name}`}>{reached(m)}</td>
            <td>{num(m.outcome?.trainLoss)}</td>
            <td>{num(m.outcome?.testLoss)}</td>
            <td>{num(m.outcome?.testAcc)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
