/**
 * A finished (or running) run opened for analysis: its config, its task rebuilt from the config
 * (the split is a function of the seed, so it equals `split.json`; an imported model's synthetic
 * batch of repeated random tokens), and its checkpoints with the
 * weights of any of them. `mechlab analyze` and the server's inspect endpoint both start here.
 *
 * @module
 */

import { basename, resolve } from "node:path";
import { analysisTask, type TaskData } from "../data/mod.ts";
import { type ParamLayout, paramLayout, unflatten, weightViews } from "../model/params.ts";
import {
  asRunInputError,
  metadataStep,
  openRunFolder,
  readCheckpointParams,
  readRunConfig,
  readSafetensorsMetadata,
  type RunConfig,
  type RunFolder,
  RunInputError,
} from "../runs/mod.ts";
import type { Tensor } from "../tensor/mod.ts";
import { cpuRunner, f32Runner, type HookedRunner } from "../hooks/mod.ts";

/** One checkpoint of a run: its step and its file. */
export interface RunCheckpoint {
  step: number;
  path: string;
}

/** A run's config and checkpoints: what generation reads of it. */
export interface CheckpointedRun {
  /** The run's name: its folder's. */
  name: string;
  folder: RunFolder;
  config: RunConfig;
  layout: ParamLayout;
  /** Every checkpoint by step ascending: the `step_*` files, and `final` when its step has none. */
  checkpoints: RunCheckpoint[];
}

/** What an analysis reads of a run: its checkpoints and its task's data. */
export interface AnalysisRun extends CheckpointedRun {
  task: TaskData;
}

/**
 * Opens the run folder at `path` for analysis; a missing folder, config or checkpoint, or a corrupt
 * file, is a one-line `RunInputError` naming it.
 *
 * @example
 * ```ts ignore
 * const run = await openAnalysisRun("runs/modular_add_23");
 * run.checkpoints.map((c) => c.step); // [0, 500, 1000, 1500]
 * ```
 */
export async function openAnalysisRun(path: string): Promise<AnalysisRun> {
  const run = await openCheckpointedRun(path);
  const task = await asRunInputError(() => Promise.resolve(analysisTask(run.config.task)));
  return { ...run, task };
}

/**
 * Opens the run folder at `path` with its checkpoints, without building its task's data (a text
 * run's file need not be at hand); a missing folder, config or checkpoint, or a corrupt file, is a
 * one-line `RunInputError` naming it.
 *
 * @example
 * ```ts ignore
 * const run = await openCheckpointedRun("runs/tinygpt");
 * run.checkpoints.at(-1)!.step; // 800
 * ```
 */
export async function openCheckpointedRun(path: string): Promise<CheckpointedRun> {
  return await asRunInputError(async () => {
    const folder = await openRunFolder(path);
    const config = await readRunConfig(folder);
    const checkpoints: RunCheckpoint[] = await folder.listCheckpoints();
    // The final weights count where no step file holds their step (a run stopped between
    // checkpoints); only the header is read for that.
    const finalPath = folder.finalPath();
    const hasFinal = await Deno.stat(finalPath).then(() => true, () => false);
    const finalStep = hasFinal
      ? metadataStep(await readSafetensorsMetadata(finalPath), finalPath)
      : NaN;
    if (hasFinal && !checkpoints.some((c) => c.step === finalStep)) {
      checkpoints.push({ step: finalStep, path: finalPath });
    }
    if (checkpoints.length === 0) throw new Error(`run ${path} has no checkpoints yet`);
    return {
      name: basename(resolve(path)),
      folder,
      config,
      layout: paramLayout(config.model),
      checkpoints,
    };
  });
}

/**
 * The weights of `run`'s checkpoint at `step`, by TransformerLens name; a step without a checkpoint
 * is a `RunInputError` listing the steps there are.
 *
 * @example
 * ```ts ignore
 * const run = await openAnalysisRun("runs/modular_add_23");
 * const weights = await checkpointWeights(run, 1500);
 * weights.get("embed.W_E")?.shape; // [24, 64]
 * ```
 */
export async function checkpointWeights(
  run: CheckpointedRun,
  step: number,
): Promise<Map<string, Tensor>> {
  const { params } = await readCheckpointParams(findCheckpoint(run, step).path, run.layout);
  return unflatten(run.layout, params);
}

/**
 * The tasks whose runs the CPU analyses run on the f32 runner (`f32Runner`): text, where models are
 * GPT-sized (GPT-2 small is 124M parameters: 34 s and 4.5 GB a prompt in float64). The small task
 * models keep the float64 reference, to whose precision their analyses are tested.
 */
const F32_TASKS: ReadonlySet<string> = new Set(["text", "pretrained"]);

/**
 * The hooked CPU model of `run`'s checkpoint at `step` with its weights by name: `f32Runner` over
 * the checkpoint's flat f32 array, and the weights as f32 views of it, for `text` and `pretrained`
 * runs; `cpuRunner` and float64 weights for the others. A step without a checkpoint is a `RunInputError` as in `checkpointWeights`.
 *
 * @example
 * ```ts ignore
 * const run = await openCheckpointedRun("runs/gpt2");
 * const { runner } = await checkpointRunner(run, 0); // f32Runner: a pretrained run
 * const { cache } = await runner.runWithCache(ids, 1, { names: ["blocks.5.attn.hook_pattern"] });
 * ```
 */
export async function checkpointRunner(
  run: CheckpointedRun,
  step: number,
): Promise<{ weights: Map<string, Tensor>; runner: HookedRunner }> {
  const { params } = await readCheckpointParams(findCheckpoint(run, step).path, run.layout);
  const cfg = run.config.model;
  if (!checkpointRunnerIsF32(run)) {
    const weights = unflatten(run.layout, params);
    return { weights, runner: cpuRunner(cfg, weights) };
  }
  // The analyses read weights through readF64, converting what they read when they read it.
  return { weights: weightViews(run.layout, params), runner: f32Runner(cfg, params) };
}

/**
 * Whether `checkpointRunner` gives `run` the f32 runner (a `text` or `pretrained` run).
 *
 * @example
 * ```ts ignore
 * checkpointRunnerIsF32(await openCheckpointedRun("runs/gpt2")); // true
 * ```
 */
export function checkpointRunnerIsF32(run: CheckpointedRun): boolean {
  return F32_TASKS.has(run.config.task.task);
}

/**
 * `run`'s checkpoint at `step`; a step without one is a `RunInputError` listing the steps there are.
 *
 * @example
 * ```ts ignore
 * const run = await openAnalysisRun("runs/modular_add_23");
 * findCheckpoint(run, 1500).path; // "runs/modular_add_23/checkpoints/step_001500.safetensors"
 * ```
 */
export function findCheckpoint(run: CheckpointedRun, step: number): RunCheckpoint {
  const found = run.checkpoints.find((c) => c.step === step);
  if (found === undefined) {
    const steps = run.checkpoints.map((c) => c.step);
    throw new RunInputError(`no checkpoint at step ${step}; there are ${describeSteps(steps)}`);
  }
  return found;
}

/** "0, 500, …, 25000 (51)" for long lists, all of them for short ones. */
function describeSteps(steps: number[]): string {
  if (steps.length <= 6) return steps.join(", ");
  return `${steps.slice(0, 3).join(", ")}, …, ${steps.at(-1)} (${steps.length})`;
}
