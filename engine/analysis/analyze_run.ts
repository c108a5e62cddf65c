/**
 * `mechlab analyze`'s work: every checkpoint of a run analysed (the last first, then in step
 * order), each written to
 * `runs/NAME/analysis/step_NNNNNN.json` as soon as it is done, `analysis/index.json` rewritten
 * after each (so a page can plot the progress measures while the rest is computed), and
 * `analysis/summary.json` at the end. Files are written atomically (temp file + rename), so an
 * interrupted analysis leaves every finished checkpoint readable. Shapes: `report.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { exampleSplits, lastTargets, scoresLastOnly } from "../data/mod.ts";
import { type Device, type Gpu, pickDevice } from "../gpu/mod.ts";
import { gpuRunner, type HookedRunner } from "../hooks/mod.ts";
import { acquireLock, ANALYSIS_LOCK, writeFileAtomic } from "../runs/mod.ts";
import type { Tensor } from "../tensor/mod.ts";
import { ANALYSIS_CHUNK, analyzeCheckpoint } from "./checkpoint_report.ts";
import { RunInputError } from "../runs/mod.ts";
import {
  type AnalysisRun,
  checkpointRunner,
  checkpointRunnerIsF32,
  checkpointWeights,
  openAnalysisRun,
} from "./run_data.ts";
import type { AnalysisIndex, AnalysisSummary, CheckpointReport } from "./report.ts";

/** How `analyzeRun` runs. */
export interface AnalyzeOptions {
  /** `auto`: a hardware GPU if there is one, else the float64 CPU model (as `train`). */
  device: Device;
  /** Analyse every `every`-th checkpoint (the last always); default 1, all of them. */
  every?: number;
  /** One line per checkpoint for the person watching. */
  log?: (line: string) => void;
}

/** Significant digits kept of non-integers in the JSON: plenty for plots, a third of the bytes. */
const DIGITS = 6;

/**
 * The name of a checkpoint's analysis file: `step_NNNNNN.json` (six digits, zero padded).
 *
 * @example
 * ```ts
 * import { reportFileName } from "./analyze_run.ts";
 * reportFileName(1500); // "step_001500.json"
 * ```
 */
export function reportFileName(step: number): string {
  return `step_${String(step).padStart(6, "0")}.json`;
}

/**
 * Analyses the run at `path` and returns its summary (also written to `analysis/summary.json`).
 *
 * @example
 * ```ts ignore
 * const summary = await analyzeRun("runs/modular_add_113", { device: "auto" });
 * summary.key_freqs; // e.g. [14, 35, 41, 42, 52]
 * ```
 */
export async function analyzeRun(path: string, options: AnalyzeOptions): Promise<AnalysisSummary> {
  const run = await openAnalysisRun(path);
  const every = options.every ?? 1;
  if (!Number.isInteger(every) || every < 1) {
    throw new RunInputError(`--every ${every}: expected a positive integer`);
  }
  const chosen = run.checkpoints.filter((_, i, all) => i % every === 0 || i === all.length - 1);
  // Its own lock, not run.lock: a run still training can be analysed, but two analyses of one
  // run never write one analysis/ folder.
  const lock = await acquireLock(run.folder.path, { file: ANALYSIS_LOCK, command: "analyze" });
  try {
    return await analyzeChosen(run, chosen, options);
  } finally {
    lock.release();
  }
}

/** `analyzeRun` on the checkpoints `chosen`, holding the analysis lock. */
async function analyzeChosen(
  run: AnalysisRun,
  chosen: AnalysisRun["checkpoints"],
  options: AnalyzeOptions,
): Promise<AnalysisSummary> {
  const path = run.folder.path;
  const gpu = await pickDevice(options.device);
  options.log?.(
    `analysing ${chosen.length} checkpoints of ${path} on ${
      gpu ? `the GPU, ${gpu.describe()}` : `the CPU (${cpuPrecision(run)})`
    }`,
  );
  const dir = join(run.folder.path, "analysis");
  await Deno.mkdir(dir, { recursive: true });
  const index = indexOf(run);
  // The final checkpoint first: its key frequencies are the ones every checkpoint's restricted and
  // excluded losses use (the paper's progress measures); then the rest in step order.
  const order = [chosen.at(-1)!, ...chosen.slice(0, -1)];
  let final: CheckpointReport | undefined;
  try {
    for (const { step } of order) {
      const t0 = performance.now();
      const { weights, runner } = await runnerFor(gpu, run, step);
      let report: CheckpointReport;
      try {
        const lossFreqs = final?.modular?.key_freqs;
        report = await analyzeCheckpoint(runner, {
          cfg: run.config.model,
          task: run.task,
          weights,
          step,
          ...(lossFreqs ? { lossFreqs } : {}),
        });
      } finally {
        runner.release();
      }
      final ??= report;
      await writeJson(join(dir, reportFileName(step)), report);
      const at = index.steps.findLastIndex((s) => s < step) + 1;
      index.steps.splice(at, 0, step);
      index.progress.splice(at, 0, report.progress);
      await writeJson(join(dir, "index.json"), index);
      const p = report.progress;
      options.log?.(
        `step ${step}: test loss ${p.test_loss?.toPrecision(3) ?? "-"}, acc ${
          p.test_acc?.toFixed(3) ?? "-"
        }` +
          (p.test_loss === null ? `, train loss ${p.train_loss.toPrecision(3)}` : "") +
          (p.induction_score === undefined
            ? ""
            : `, best induction score ${p.induction_score.toFixed(3)}`) +
          (p.key_freqs ? `, key freqs [${p.key_freqs.join(", ")}]` : "") +
          ` | ${((performance.now() - t0) / 1000).toFixed(1)}s`,
      );
    }
  } finally {
    gpu?.destroy();
  }
  const summary = summaryOf(run, final!, chosen.length);
  await writeJson(join(dir, "summary.json"), summary);
  return summary;
}

/**
 * The hooked model of one checkpoint on the chosen device, and its weights: on the CPU,
 * `checkpointRunner`'s (f32 for text and pretrained runs, float64 for the others).
 */
async function runnerFor(
  gpu: Gpu | undefined,
  run: AnalysisRun,
  step: number,
): Promise<{ weights: Map<string, Tensor>; runner: HookedRunner }> {
  if (gpu === undefined) return await checkpointRunner(run, step);
  const weights = await checkpointWeights(run, step);
  const runner = await gpuRunner(gpu, run.config.model, weights, { maxBatch: ANALYSIS_CHUNK });
  return { weights, runner };
}

/** What `checkpointRunner` runs `run` in on the CPU, for the log. */
function cpuPrecision(run: AnalysisRun): string {
  return checkpointRunnerIsF32(run) ? "f32" : "float64";
}

/** What does not change between checkpoints, with no checkpoint yet. */
function indexOf(run: AnalysisRun): AnalysisIndex {
  const { task, config } = run;
  const { split, group } = exampleSplits(task);
  return {
    run: run.name,
    task: task.task,
    p: "p" in config.task ? config.task.p : 0,
    n_layers: config.model.n_layers,
    n_heads: config.model.n_heads,
    n_ctx: task.n_ctx,
    vocab: task.vocab.labels,
    examples: task.tokens.length / task.n_ctx,
    split: Array.from(split),
    group: Array.from(group),
    groups: task.groups.map((g) => g.name),
    targets: scoresLastOnly(task.targets, task.n_ctx) ? Array.from(lastTargets(task)) : [],
    steps: [],
    progress: [],
  };
}

/** The final checkpoint's headline figures. */
function summaryOf(run: AnalysisRun, last: CheckpointReport, checkpoints: number): AnalysisSummary {
  const p = last.progress;
  const summary: AnalysisSummary = {
    run: run.name,
    step: last.step,
    checkpoints,
    train_loss: p.train_loss,
    test_loss: p.test_loss,
    test_acc: p.test_acc,
  };
  if (p.decomposition_error !== undefined) summary.decomposition_error = p.decomposition_error;
  for (
    const key of [
      "key_freqs",
      "restricted_loss",
      "excluded_loss",
      "gini_embed",
      "alias_alignment",
      "twin_acc",
    ] as const
  ) {
    if (p[key] !== undefined) Object.assign(summary, { [key]: p[key] });
  }
  return summary;
}

/** `value` as JSON, numbers to `DIGITS` significant digits, written atomically. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(
    value,
    (_, v) =>
      typeof v === "number" && !Number.isInteger(v) && Number.isFinite(v)
        ? Number(v.toPrecision(DIGITS))
        : v,
  );
  await writeFileAtomic(path, new TextEncoder().encode(text));
}
