/// <reference lib="dom" />
/**
 * The analysis views' signals: the focused run's `analysis/index.json`, the report of the analysed
 * step the checkpoint slider stands on, the example picked in the example grid, and that example's
 * inspect report. They follow `focusedRun` and `checkpointStep` of `../state.ts`.
 *
 * @module
 */

import { batch, computed, effect, signal } from "@preact/signals";
import {
  ApiError,
  getAnalysis,
  getAnalyzeLog,
  getInspect,
  getStepReport,
  startAnalyze,
} from "../api.ts";
import { checkpointSteps } from "../checkpoint_step.ts";
import { checkpoints, checkpointStep, focusedRun, metrics, runs } from "../state.ts";
import type { AnalysisIndex, CheckpointReport, InspectReport, RunLog } from "../types.ts";
import { analysedStep, defaultExample } from "./grid.ts";
import { latestLoader, type Loaded } from "./latest.ts";
import { runPhases } from "./phases.ts";

/** The focused run's analysis index; `null` while loading or when there is none. */
export const analysisIndex = signal<AnalysisIndex | null>(null);
/** The run (folder name) `analysisIndex` is of. */
export const analysedRun = signal<string | null>(null);
/** Why there is no analysis to show (the server's line: a never-analysed run says what to run). */
export const analysisProblem = signal("");
/** The analysed step the views show: the slider's, or the last analysed one before it. */
export const shownStep = computed(() =>
  analysedStep(analysisIndex.value?.steps ?? [], checkpointStep.value)
);
/** The focused run's phases of grokking, from its metrics lines (none for an `oocl` run). */
export const phases = computed(() => {
  const run = focusedRun.value;
  if (run === null) return [];
  const task = runs.value.find((r) => r.name === run)?.task;
  return runPhases(task, metrics.value[run] ?? []);
});
/** `analysis/step_NNNNNN.json` of `shownStep`. */
export const stepReport = signal<CheckpointReport | null>(null);
/** Why the step report failed to load, or "". */
export const stepProblem = signal("");
/** The example the inspect views look at: clicked in the example grid. */
export const pickedExample = signal<number | null>(null);
/** The example patching runs into (shift-click on the grid, or typed); `null`: the server's default. */
export const pickedPartner = signal<number | null>(null);
/** `pickedExample` inspected at `shownStep`. */
export const inspectReport = signal<InspectReport | null>(null);
/** Why the inspect report failed, or "". */
export const inspectProblem = signal("");
/** Whether an inspect report is being computed for the wanted (step, example). */
export const inspecting = signal(false);

/** An analysis started from the page: still running, or ended with its error line ("" if none). */
export interface AnalyzeJob {
  running: boolean;
  error: string;
}
/** The analyses started from this page, by run. */
export const analyzeJobs = signal<Readonly<Record<string, AnalyzeJob>>>({});
/** How often a running analysis is looked at: its index grows by one checkpoint at a time. */
const FOLLOW_MS = 1000;

const checkpointKey = computed(() => checkpointSteps(checkpoints.value).join());

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const loadStep = latestLoader(
  (key) => {
    const [run, step] = JSON.parse(key) as [string, number];
    return getStepReport(run, step);
  },
  {
    deliver: (_key, r: Loaded<CheckpointReport>) =>
      batch(() => {
        stepReport.value = "value" in r ? r.value : null;
        stepProblem.value = "value" in r ? "" : message(r.error);
      }),
  },
);

const loadInspect = latestLoader(
  (key) => {
    const [run, step, example, partner] = JSON.parse(key) as [
      string,
      number,
      number,
      number | null,
    ];
    return getInspect(run, step, example, partner);
  },
  {
    deliver: (_key, r: Loaded<InspectReport>) =>
      batch(() => {
        inspecting.value = false;
        inspectReport.value = "value" in r ? r.value : null;
        inspectProblem.value = "value" in r ? "" : message(r.error);
      }),
    keep: 8,
  },
);

/**
 * Loads the focused run's analysis index again (after `mechlab analyze` ran).
 *
 * @example
 * ```ts
 * import { reloadAnalysis } from "./state.ts";
 * await reloadAnalysis();
 * ```
 */
export async function reloadAnalysis(): Promise<void> {
  const run = focusedRun.peek();
  let index: AnalysisIndex | null = null;
  let problem = "";
  if (run !== null) {
    try {
      index = await getAnalysis(run);
    } catch (e) {
      problem = message(e);
    }
  }
  if (run !== focusedRun.peek()) return; // the focus moved on while this was in flight
  batch(() => {
    const sameRun = index !== null && analysedRun.peek() === run;
    analysisIndex.value = index;
    analysedRun.value = index === null ? null : run;
    analysisProblem.value = problem;
    if (!sameRun) {
      stepReport.value = null;
      inspectReport.value = null;
      pickedExample.value = index === null ? null : defaultExample(index);
      pickedPartner.value = null;
    }
  });
}

/**
 * Starts `mechlab analyze` on `run` (a child process of the server) and follows it until it ends:
 * each second, its process state and then, if the run is focused, its index, so the views appear
 * as soon as `index.json` exists and grow with it. A failed analysis leaves its error line in
 * `analyzeJobs`. An analysis of the run already running (409: another tab started it) is followed.
 *
 * @example
 * ```ts
 * import { analyzeJobs, analyzeRun } from "./state.ts";
 * await analyzeRun("modular_add_23");
 * analyzeJobs.value["modular_add_23"]; // { running: false, error: "" }
 * ```
 */
export async function analyzeRun(run: string): Promise<void> {
  const set = (job: AnalyzeJob) => {
    analyzeJobs.value = { ...analyzeJobs.value, [run]: job };
  };
  set({ running: true, error: "" });
  try {
    await startAnalyze(run);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) {
      return set({ running: false, error: message(e) });
    }
  }
  while (true) {
    await new Promise((r) => setTimeout(r, FOLLOW_MS));
    let log: RunLog;
    try {
      log = await getAnalyzeLog(run);
    } catch (e) {
      return set({ running: false, error: message(e) });
    }
    // The index after the process state: once that says it ended, this index is the last one.
    if (focusedRun.peek() === run) await reloadAnalysis();
    if (!log.running) {
      const failed = log.code !== 0;
      return set({
        running: false,
        error: failed ? log.error ?? `mechlab analyze ended with code ${log.code}` : "",
      });
    }
  }
}

/**
 * Starts following the focused run and the slider: called once by the page, after `start()`.
 *
 * @example
 * ```ts
 * import { startAnalysis } from "./state.ts";
 * startAnalysis();
 * ```
 */
export function startAnalysis(): void {
  // A new checkpoint is when the run may have been analysed again: look again then (the list is
  // refreshed every second of a live run; only a change of its steps counts).
  effect(() => {
    focusedRun.value;
    checkpointKey.value;
    void reloadAnalysis();
  });
  effect(() => {
    const run = analysedRun.value;
    const step = shownStep.value;
    loadStep(run === null || step === null ? null : JSON.stringify([run, step]));
  });
  effect(() => {
    const run = analysedRun.value;
    const step = shownStep.value;
    const example = pickedExample.value;
    const partner = pickedPartner.value;
    const wanted = run !== null && step !== null && example !== null;
    inspecting.value = wanted;
    loadInspect(wanted ? JSON.stringify([run, step, example, partner]) : null);
  });
}
