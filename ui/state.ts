/**
 * The page's state as signals, and the actions that change it. Views read the signals and call
 * the actions; the live stream (`/api/events`) feeds the same signals, so every view redraws from
 * one place. Later views (attention, Fourier, patching) follow `focusedRun` and `checkpointStep`.
 *
 * @module
 */

import { batch, computed, effect, signal } from "@preact/signals";
import {
  ApiError,
  type EventHandlers,
  getCheckpoints,
  getConfig,
  getMetrics,
  getPresets,
  getRuns,
  stopRun,
  subscribe,
} from "./api.ts";
import { checkpointSteps, chooseStep } from "./checkpoint_step.ts";
import { sortRuns, type SortState, vanished } from "./runs_rows.ts";
import { applyRecords, mergeRecords } from "./series.ts";
import type { Checkpoint, MetricsRecord, PresetsAnswer, RunSummary } from "./types.ts";

/** Every run, as `/api/runs` and the stream last told, with the newest metrics line folded in. */
export const runs = signal<RunSummary[]>([]);
/** The presets the launch form offers, the server's default and the choices; null until loaded. */
export const presets = signal<PresetsAnswer | null>(null);
/** The checked runs, in the order they were checked. */
export const selected = signal<string[]>([]);
/** Each loaded run's metrics lines by step (a run is loaded when first checked). */
export const metrics = signal<Record<string, MetricsRecord[]>>({});
/** Loaded `config.json`s by run. */
export const configs = signal<Record<string, Record<string, unknown>>>({});
/** The runs table's filter text. */
export const filterText = signal("");
/** The runs table's order: newest first until a header is clicked. */
export const sortState = signal<SortState>({ column: "started", descending: true });
/** The run the checkpoint slider (and the later views) look at: the one checked last. */
export const focusedRun = computed(() => selected.value.at(-1) ?? null);
/** The focused run's checkpoints. */
export const checkpoints = signal<Checkpoint[]>([]);
/** The chosen checkpoint's step in the focused run; `null` when it has none. */
export const checkpointStep = signal<number | null>(null);
/** The stream's state, shown in the header. */
export const connection = signal<"connecting" | "live" | "reconnecting" | "unauthorized">(
  "connecting",
);
/** The last failed request's line, shown until the next one succeeds. */
export const problem = signal("");

// Stream records that arrive while a run's history is being fetched wait here, then merge.
const pending = new Map<string, MetricsRecord[]>();
// Runs launched from the page, checked as soon as the server lists them (their folder exists).
const toCheck = new Set<string>();
// Whether a runs list came yet: the first checks its newest run (see `setRuns`).
let listed = false;

function report(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) connection.value = "unauthorized";
  problem.value = error instanceof Error ? error.message : String(error);
}

async function loadMetrics(name: string): Promise<void> {
  if (name in metrics.value || pending.has(name)) return;
  pending.set(name, []);
  let history: MetricsRecord[] = [];
  try {
    history = await getMetrics(name);
  } catch (e) {
    // A run launched a moment ago may have no folder yet: the stream will bring its lines.
    if (!(e instanceof ApiError && e.status === 404)) report(e);
  }
  const early = pending.get(name) ?? [];
  pending.delete(name);
  metrics.value = { ...metrics.value, [name]: mergeRecords(history, early) };
}

/**
 * Checks or unchecks a run; checking loads its metrics history once.
 *
 * @example
 * ```ts
 * import { selected, toggleRun } from "./state.ts";
 * toggleRun("modular_add_23", true);
 * selected.value; // ["modular_add_23"]
 * ```
 */
export function toggleRun(name: string, on: boolean): void {
  const rest = selected.value.filter((n) => n !== name);
  selected.value = on ? [...rest, name] : rest;
  if (on) void loadMetrics(name);
}

/**
 * Checks a run as soon as the server lists it: for a run just launched, whose folder may not
 * exist yet, so its history is fetched once there is one.
 *
 * @example
 * ```ts
 * import { checkWhenListed } from "./state.ts";
 * checkWhenListed("modular_add_23-2");
 * ```
 */
export function checkWhenListed(name: string): void {
  toCheck.add(name);
  setRuns(runs.peek());
}

/**
 * Takes a new runs list (from `/api/runs` or the stream): checks the launched runs it now holds
 * (and, the first time, the newest run, when none is checked), and looks at the focused run's checkpoints again (a run that ended wrote its final one).
 *
 * @example
 * ```ts
 * import { runs, setRuns } from "./state.ts";
 * setRuns([]);
 * runs.value.length; // 0
 * ```
 */
export function setRuns(list: RunSummary[]): void {
  batch(() => {
    runs.value = list;
    // A run whose folder is gone leaves the charts too (its row, and so its checkbox, is gone).
    // A sweep's member (SWEEP/MEMBER) is not in the runs list: it stays while its sweep is open.
    const held = [...selected.value, ...Object.keys(metrics.value)].filter((n) => !n.includes("/"));
    forget(vanished(list, held));
    for (const r of list) {
      if (toCheck.delete(r.name)) toggleRun(r.name, true);
    }
    // The first screen shows curves without a click: the newest run, checked once.
    if (!listed && list.length > 0) {
      listed = true;
      const newest = sortRuns(list, { column: "started", descending: true })[0]!;
      if (selected.peek().length === 0) toggleRun(newest.name, true);
    }
  });
  if (list.some((r) => r.name === focusedRun.peek())) scheduleCheckpoints();
}

/**
 * Loads a run's `config.json` once (for the config diff).
 *
 * @example
 * ```ts
 * import { configs, loadConfig } from "./state.ts";
 * await loadConfig("modular_add_23");
 * configs.value["modular_add_23"]; // the run's config.json
 * ```
 */
export async function loadConfig(name: string): Promise<void> {
  if (name in configs.value) return;
  try {
    const config = await getConfig(name);
    configs.value = { ...configs.value, [name]: config };
  } catch (e) {
    report(e);
  }
}

/**
 * Takes new metrics lines of a run from the stream: the table row shows the newest, a loaded
 * run's curves get them, and the focused run's checkpoint list is looked at again.
 *
 * @example
 * ```ts
 * import { onMetrics } from "./state.ts";
 * onMetrics("modular_add_23", [{ step: 100, "train/loss": 0.5 }]);
 * ```
 */
export function onMetrics(name: string, records: MetricsRecord[]): void {
  const last = records.at(-1);
  if (last === undefined) return;
  batch(() => {
    runs.value = runs.value.map((r) =>
      r.name === name ? { ...r, step: last.step, metrics: last } : r
    );
    const waiting = pending.get(name);
    if (waiting !== undefined) waiting.push(...records);
    else if (name in metrics.value) {
      metrics.value = { ...metrics.value, [name]: applyRecords(metrics.value[name]!, records) };
    }
  });
  if (name === focusedRun.value) scheduleCheckpoints();
}

/**
 * Asks the server to stop a run it started; the stream then brings its final lines and status.
 *
 * @example
 * ```ts
 * import { requestStop } from "./state.ts";
 * await requestStop("modular_add_23");
 * ```
 */
export async function requestStop(name: string): Promise<void> {
  try {
    await stopRun(name);
  } catch (e) {
    report(e);
  }
}

let checkpointTimer: ReturnType<typeof setTimeout> | undefined;

// A checkpoint is written at an evaluation, so a metrics event is when to look; at most once a
// second, since a fast run evaluates many times a second.
function scheduleCheckpoints(): void {
  if (checkpointTimer !== undefined) return;
  checkpointTimer = setTimeout(() => {
    checkpointTimer = undefined;
    void refreshCheckpoints(focusedRun.peek(), false);
  }, 1000);
}

async function refreshCheckpoints(name: string | null, fresh: boolean): Promise<void> {
  let list: Checkpoint[] = [];
  if (name !== null) {
    try {
      list = await getCheckpoints(name);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) report(e);
    }
  }
  if (name !== focusedRun.peek()) return; // the focus moved on while this was in flight
  const previous = fresh ? [] : checkpointSteps(checkpoints.peek());
  const current = fresh ? null : checkpointStep.peek();
  batch(() => {
    checkpoints.value = list;
    checkpointStep.value = chooseStep(checkpointSteps(list), current, previous);
  });
}

async function resync(): Promise<void> {
  try {
    setRuns(await getRuns());
  } catch (e) {
    report(e);
    return;
  }
  // While the stream was down, lines were written, and a file may have been rewritten: each loaded
  // run's lines are fetched whole, each on its own, so one run gone does not stop the others.
  let failed = false;
  for (const name of Object.keys(metrics.value)) {
    try {
      const all = await getMetrics(name);
      metrics.value = { ...metrics.value, [name]: all };
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) forget([name]);
      else (report(e), failed = true);
    }
  }
  if (!failed) problem.value = "";
}

/** Drops runs from the checked set and every cache (not those launched and about to be listed). */
function forget(names: string[]): void {
  const gone = new Set(names.filter((n) => !toCheck.has(n)));
  if (gone.size === 0) return;
  batch(() => {
    selected.value = selected.value.filter((n) => !gone.has(n));
    metrics.value = Object.fromEntries(Object.entries(metrics.value).filter(([n]) => !gone.has(n)));
    configs.value = Object.fromEntries(Object.entries(configs.value).filter(([n]) => !gone.has(n)));
  });
  for (const n of gone) pending.delete(n);
}

/**
 * Loads the runs and presets, then follows the stream; the focused run's checkpoints follow the
 * focus. Called once by the page. `also` hears the stream's events too (the sweep page's).
 *
 * @example
 * ```ts
 * import { start } from "./state.ts";
 * await start();
 * ```
 */
export async function start(also: Partial<EventHandlers> = {}): Promise<void> {
  try {
    const [list, known] = await Promise.all([getRuns(), getPresets()]);
    presets.value = known;
    setRuns(list);
  } catch (e) {
    report(e);
    if (connection.value === "unauthorized") return; // no cookie: the stream would fail too
  }
  effect(() => void refreshCheckpoints(focusedRun.value, true));
  let dropped = false;
  subscribe({
    metrics: (name, records) => {
      onMetrics(name, records);
      also.metrics?.(name, records);
    },
    runs: setRuns,
    connected: (open) => {
      connection.value = open ? "live" : "reconnecting";
      if (open && dropped) void resync();
      dropped = !open;
      also.connected?.(open);
    },
    ...(also.sweeps === undefined ? {} : { sweeps: also.sweeps }),
  });
}
