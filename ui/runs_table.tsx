/// <reference lib="dom" />
/**
 * The runs table: a filter box, headers that sort, a checkbox per run that puts its curves on the
 * charts, and a stop button on runs this server started.
 *
 * @module
 */

import {
  cellValue,
  type ColumnId,
  COLUMNS,
  filterRuns,
  formatNumber,
  importedText,
  nextSort,
  sortRuns,
} from "./runs_rows.ts";
import { filterText, requestStop, runs, selected, sortState, toggleRun } from "./state.ts";
import type { RunSummary } from "./types.ts";

function formatCell(run: RunSummary, column: ColumnId): string {
  if (column === "step") return importedText(run) ?? `${run.step}/${run.steps}`;
  const v = cellValue(run, column);
  if (v === null) return "—";
  if (typeof v === "number") return formatNumber(v);
  if (column === "started") {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d.toLocaleString(undefined, {
      dateStyle: "short",
      timeStyle: "short",
    });
  }
  return v;
}

/**
 * The runs table, bound to the page's state.
 *
 * @example
 * ```tsx
 * import { RunsTable } from "./runs_table.tsx";
 * const view = <RunsTable />;
 * ```
 */
export function RunsTable() {
  const sort = sortState.value;
  const rows = sortRuns(filterRuns(runs.value, filterText.value), sort);
  const checked = new Set(selected.value);
  return (
    <section class="runs">
      <h2>runs</h2>
      <input
        type="search"
        class="filter"
        placeholder="filter: name, task, preset, status"
        data-testid="runs-filter"
        value={filterText.value}
        onInput={(e) => filterText.value = e.currentTarget.value}
      />
      <table data-testid="runs-table">
        <thead>
          <tr>
            <th />
            {COLUMNS.map((c) => (
              <th
                key={c.id}
                aria-sort={sort.column !== c.id
                  ? "none"
                  : sort.descending
                  ? "descending"
                  : "ascending"}
              >
                <button
                  type="button"
                  data-testid={`sort-${c.id}`}
                  onClick={() => sortState.value = nextSort(sortState.value, c.id)}
                >
                  {c.label}
                  {sort.column === c.id ? (sort.descending ? " ▾" : " ▴") : ""}
                </button>
              </th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((run) => (
            <tr
              key={run.name}
              data-testid={`run-row-${run.name}`}
              class={checked.has(run.name) ? "checked" : ""}
            >
              <td>
                <input
                  type="checkbox"
                  aria-label={`show ${run.name}`}
                  data-testid={`run-check-${run.name}`}
                  checked={checked.has(run.name)}
                  onChange={(e) => toggleRun(run.name, e.currentTarget.checked)}
                />
              </td>
              {COLUMNS.map((c) => (
                <td key={c.id} class={`col-${c.id} ${c.id === "status" ? run.status : ""}`}>
                  {formatCell(run, c.id)}
                </td>
              ))}
              <td>
                {run.status === "running" && (
                  <button
                    type="button"
                    data-testid={`run-stop-${run.name}`}
                    onClick={() => void requestStop(run.name)}
                  >
                    stop
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && (
        <p class="hint">
          {runs.value.length === 0 ? "no runs yet: launch one below" : "no run matches the filter"}
        </p>
      )}
    </section>
  );
}
