/**
 * The sweep page's state: the sweeps list (from `GET /api/sweeps` and the `sweeps` event), the
 * open sweep's detail, fetched again (at most every 300 ms) when the list changes or one of its
 * members' metrics lines arrive, so the table and the diagram follow a sweep as it trains; the
 * axes chosen, and the cell whose members are overlaid and open in the run views.
 *
 * @module
 */

import { batch, computed, signal } from "@preact/signals";
import { getSweep, getSweeps } from "../api.ts";
import { problem, selected, toggleRun } from "../state.ts";
import type { MetricsRecord, SweepDetail, SweepSummary } from "../types.ts";
import { type AxisChoice, type AxisValue, cells, chooseAxes } from "./cells.ts";

export const sweeps = signal<SweepSummary[]>([]);
export const openSweep = signal<string | null>(null);
export const detail = signal<SweepDetail | null>(null);
/** The axes the person asked for (the choice falls back where they are not swept). */
export const wantedAxes = signal<
  { x?: string | null; y?: string | null; fixed?: Record<string, AxisValue> }
>({});
/** The chosen cell, as `[row, column]` of the diagram. */
export const chosenCell = signal<[number, number] | null>(null);

export const axes = computed<AxisChoice | null>(() =>
  detail.value === null ? null : chooseAxes(detail.value.axes, wantedAxes.value)
);
export const grid = computed(() =>
  detail.value === null || axes.value === null ? [] : cells(detail.value, axes.value)
);
export const cell = computed(() => {
  const at = chosenCell.value;
  return at === null ? undefined : grid.value[at[0]]?.[at[1]];
});

let timer: ReturnType<typeof setTimeout> | undefined;

function report(e: unknown): void {
  problem.value = e instanceof Error ? e.message : String(e);
}

/** Fetches the open sweep again soon (once, however many events ask). */
function refresh(): void {
  if (timer !== undefined || openSweep.peek() === null) return;
  timer = setTimeout(async () => {
    timer = undefined;
    const name = openSweep.peek();
    if (name === null) return;
    try {
      const d = await getSweep(name);
      if (openSweep.peek() === name) detail.value = d;
    } catch (e) {
      report(e);
    }
  }, 300);
}

/**
 * Opens a sweep (null: none), its detail fetched now.
 *
 * @example
 * ```ts ignore
 * showSweep("sweep_modular_add_23");
 * ```
 */
export function showSweep(name: string | null): void {
  batch(() => {
    openSweep.value = name;
    detail.value = null;
    chosenCell.value = null;
    wantedAxes.value = {};
  });
  refresh();
}

/**
 * Chooses a cell: its members become the checked runs, so the run views (curves, checkpoints,
 * config, analysis) show them, the last one focused.
 *
 * @example
 * ```ts ignore
 * chooseCell(0, 1);
 * ```
 */
export function chooseCell(row: number, column: number): void {
  chosenCell.value = [row, column];
  const members = grid.peek()[row]?.[column]?.members ?? [];
  batch(() => {
    for (const name of selected.peek()) toggleRun(name, false);
    for (const m of members) if (m.status !== "absent") toggleRun(m.run, true);
  });
}

/** The handlers the page's stream calls: the list, members' lines, a reconnect. */
export const sweepEvents = {
  sweeps(list: SweepSummary[]): void {
    sweeps.value = list;
    refresh();
  },
  metrics(name: string, _records: MetricsRecord[]): void {
    const open = openSweep.peek();
    if (open !== null && name.startsWith(`${open}/`)) refresh();
  },
  connected(open: boolean): void {
    if (open) void loadSweeps();
  },
};

/**
 * Loads the sweeps list (and the open sweep again).
 *
 * @example
 * ```ts ignore
 * await loadSweeps();
 * ```
 */
export async function loadSweeps(): Promise<void> {
  try {
    sweeps.value = await getSweeps();
  } catch (e) {
    report(e);
  }
  refresh();
}
