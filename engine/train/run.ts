/**
 * A training run from start to end: its folder (`config.json`, `split.json`, `metrics.jsonl`,
 * safetensors checkpoints named and shaped as TransformerLens'), its device, and resuming. The
 * command line and the server both start runs through here.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { type Device, type Gpu, pickDevice } from "../gpu/mod.ts";
import { initParams, type ParamLayout, paramLayout, unflatten } from "../model/params.ts";
import { ADAMW_STATE_SIZE } from "../../kernels/adamw.ts";
import {
  acquireLock,
  asRunInputError,
  createRunFolder,
  metadataStep,
  openRunFolder,
  readCheckpointParams,
  readRunConfig,
  readSafetensors,
  type RunConfig,
  type RunFolder,
  RunInputError,
  writeSafetensorsAtomic,
} from "../runs/mod.ts";
import { Tensor } from "../tensor/mod.ts";
import { trainOnCpu } from "./cpu_trainer.ts";
import type { CpuWorkers } from "../model/cpu_fast/mod.ts";
import { trainOnGpu } from "./gpu_trainer.ts";
import { trainGroupOnGpu } from "./group_trainer.ts";
import { buildTask, type TaskData } from "../data/mod.ts";
import { freshState, type TrainState } from "./state.ts";
import { grokfastSettings, type TrainConfig, validateTrainConfig } from "./config.ts";
import { checkRunFits, estimateRunBytes } from "./memory.ts";

/** How a run is started and watched. */
export interface RunOptions {
  device: Device;
  /** Each evaluation, after its line is in `metrics.jsonl`. */
  onMetrics?: (step: number, metrics: Record<string, number>) => void;
  /** Asked before each step (each submit of steps on a GPU): true ends the run there, with a
   * final checkpoint. */
  shouldStop?: () => boolean;
  /** One line for the person watching: the device chosen, resuming, checkpoints. */
  log?: (line: string) => void;
  /** Once the device is chosen, before the first step: the config trained, and its first step. */
  onStart?: (config: RunConfig, step: number) => void;
  /**
   * The CPU path's workers, started once for many runs (a sweep's members): their start-up is
   * paid once. Left open; by default each run starts and closes its own.
   */
  cpuWorkers?: () => CpuWorkers;
}

/** `resumeRun`'s options: `steps` extends a run past its configured steps. */
export interface ResumeOptions extends RunOptions {
  /** The run's new length; at least its current one (the same: it only finishes). */
  steps?: number;
}

/** The optimizer state beside the checkpoints: what `--resume` needs besides the weights. */
const OPTIMIZER_FILE = "optimizer.safetensors";

/** Where the optimizer state lives: beside the checkpoints. */
function optimizerPath(folder: RunFolder): string {
  return join(dirname(folder.finalPath()), OPTIMIZER_FILE);
}

/** Writes a checkpoint: TransformerLens-named weights, the config in `__metadata__`, atomically. */
async function saveCheckpoint(
  folder: RunFolder,
  config: RunConfig,
  layout: ParamLayout,
  state: TrainState,
  final: boolean,
): Promise<void> {
  const metadata = {
    config: JSON.stringify(config.model),
    mechlab: JSON.stringify(config),
    step: String(state.step),
  };
  const weights = unflatten(layout, state.params);
  if (!final || state.step % config.train.checkpoint_every === 0) {
    await writeSafetensorsAtomic(folder.checkpointPath(state.step), weights, metadata);
  }
  if (final) await writeSafetensorsAtomic(folder.finalPath(), weights, metadata);
  const P = layout.size;
  await writeSafetensorsAtomic(optimizerPath(folder), {
    m: new Tensor(state.m, [P]),
    v: new Tensor(state.v, [P]),
    state: new Tensor(state.optimizer, [state.optimizer.length]),
    ...(state.ema === undefined ? {} : { grokfast_ema: new Tensor(state.ema, [P]) }),
  }, { step: String(state.step) });
}

/**
 * The state saved at the optimizer file's step, read back for `--resume`; a missing or corrupt
 * file, or a tensor of the wrong type or length, is a one-line `RunInputError` naming it.
 */
async function loadState(
  folder: RunFolder,
  layout: ParamLayout,
  train: TrainConfig,
): Promise<TrainState> {
  const path = optimizerPath(folder);
  if (!(await Deno.lstat(path).catch(() => undefined))) {
    // Only a run started before step 0 was written at start can lack it.
    throw new RunInputError(
      `${path} not found: the run never reached a checkpoint; start it again with --force`,
    );
  }
  const opt = await asRunInputError(() => readSafetensors(path));
  const step = metadataStep(opt.metadata, path);
  const final = await readCheckpointParams(folder.finalPath(), layout).catch(() => undefined);
  const { params } = final?.step === step
    ? final
    : await readCheckpointParams(folder.checkpointPath(step), layout);
  const tensor = (name: string, dtype: "f32" | "i32", length: number) => {
    const t = opt.tensors.get(name);
    if (t === undefined) throw new RunInputError(`${path} lacks ${name}`);
    if (t.dtype !== dtype || t.shape.join() !== String(length)) {
      throw new RunInputError(
        `${path}: ${name} must be ${dtype} [${length}] (got ${t.dtype} [${t.shape}])`,
      );
    }
    return t.data;
  };
  const state: TrainState = {
    step,
    params,
    m: Float32Array.from(tensor("m", "f32", layout.size)),
    v: Float32Array.from(tensor("v", "f32", layout.size)),
    optimizer: Int32Array.from(tensor("state", "i32", ADAMW_STATE_SIZE)),
  };
  // Grokfast's EMA is optimiser state too: a run with Grokfast on needs it to go on exactly.
  if (grokfastSettings(train)) {
    state.ema = Float32Array.from(tensor("grokfast_ema", "f32", layout.size));
  }
  return state;
}

/**
 * The task and the device of a run, checked to fit this machine: everything that can refuse a run
 * is asked before its folder is written.
 */
async function prepare(config: RunConfig, device: Device) {
  const task = buildTask(config.task);
  const gpu = await pickDevice(device);
  try {
    checkRunFits(config, task, { device, gpu });
  } catch (e) {
    gpu?.destroy();
    throw e;
  }
  return { task, gpu };
}

/** Trains `config` in `folder` from `state` on `gpu` (or the CPU), appending metrics and writing
 * checkpoints. */
async function train(
  folder: RunFolder,
  config: RunConfig,
  state: TrainState,
  options: RunOptions & { gpu: Gpu | undefined; task: TaskData; timeOffset?: number },
): Promise<void> {
  const { gpu, task } = options;
  const layout = paramLayout(config.model);
  options.log?.(
    `device: ${
      gpu ? `GPU, ${gpu.describe()}` : "CPU (f32 steps on a worker per core, float64 evaluation)"
    }`,
  );
  options.onStart?.(config, state.step);
  const setup = { model: config.model, layout, train: config.train, task };
  const workers = gpu ? undefined : options.cpuWorkers?.();
  const hooks = {
    onMetrics: async (step: number, metrics: Record<string, number>) => {
      const time_s = (options.timeOffset ?? 0) + (performance.now() - t0) / 1000;
      await folder.appendMetrics({ step, ...metrics, time_s });
      options.onMetrics?.(step, metrics);
    },
    onCheckpoint: (s: TrainState, final: boolean) =>
      saveCheckpoint(folder, config, layout, s, final),
    shouldStop: options.shouldStop ?? (() => false),
  };
  const t0 = performance.now();
  if (gpu) await trainOnGpu(gpu, setup, state, hooks);
  else await trainOnCpu({ ...setup, workers }, state, hooks);
}

/**
 * Starts a run in `parent/name`: checks that it fits this machine and picks its device, then
 * writes its config, split and step-0 checkpoint (weights and optimizer state) under a temporary
 * name and gives the folder its name only then, so a run refused here leaves no folder and a run
 * killed at any moment leaves nothing or a folder `--resume` continues; then trains from there,
 * holding the folder's `run.lock` until it ends.
 *
 * @example
 * ```ts ignore
 * const cfg = resolveConfig("smoke", {}, "0.1.0");
 * await startRun(cfg, { parent: "runs", name: "smoke", force: false }, { device: "auto" });
 * ```
 */
export async function startRun(
  config: RunConfig,
  where: { parent: string; name: string; force: boolean },
  options: RunOptions,
): Promise<RunFolder> {
  const { task, gpu } = await prepare(config, options.device);
  try {
    const layout = paramLayout(config.model);
    const grokfast = grokfastSettings(config.train) !== undefined;
    const state = freshState(initParams(config.model, layout), { grokfast });
    const folder = await createRunFolder(where.parent, where.name, {
      force: where.force,
      lock: "train",
      fill: async (f) => {
        await f.writeJson("config.json", config);
        await f.writeJson("split.json", task.split());
        await saveCheckpoint(f, config, layout, state, false);
      },
    });
    try {
      await train(folder, config, state, { ...options, gpu, task });
    } finally {
      folder.release();
    }
    return folder;
  } finally {
    gpu?.destroy();
  }
}

/** `startGroup`'s options: each member's evaluations, and the stop asked before each submit. */
export interface GroupOptions {
  onMetrics?: (name: string, step: number, metrics: Record<string, number>) => void;
  shouldStop?: () => boolean;
}

/**
 * How many members of `config`'s shape one group on `gpu` holds: its largest buffer times the
 * members within the adapter's cap, and every buffer within half the free memory.
 *
 * @example
 * ```ts ignore
 * groupCapacity(config, buildTask(config.task), gpu); // lavapipe: 220 smoke members, 7 grokking
 * ```
 */
export function groupCapacity(config: RunConfig, task: TaskData, gpu: Gpu): number {
  const need = estimateRunBytes(config, task, "gpu");
  const limits = gpu.device.limits;
  const cap = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const free = Deno.systemMemoryInfo().available / 2;
  return Math.max(1, Math.min(Math.floor(cap / need.largestBuffer), Math.floor(free / need.gpu)));
}

/**
 * Starts `members` (fresh, one shape: `groupKey` equal, within `groupCapacity`) as one group on
 * `gpu` (`trainGroupOnGpu`): each an ordinary run folder in `parent` as `startRun` writes it
 * (config, split, metrics, checkpoints, optimizer state, so `resumeRun` continues a member alone),
 * held locked until the group ends.
 *
 * @example
 * ```ts ignore
 * await startGroup(gpu, [{ config, name: "seed_1" }, { config: c2, name: "seed_2" }], "runs/s", {});
 * ```
 */
export async function startGroup(
  gpu: Gpu,
  members: { config: RunConfig; name: string }[],
  parent: string,
  options: GroupOptions,
): Promise<void> {
  const layout = paramLayout(members[0]!.config.model);
  const folders: RunFolder[] = [];
  try {
    const group = [];
    for (const { config, name } of members) {
      const task = buildTask(config.task);
      const state = freshState(initParams(config.model, layout));
      const folder = await createRunFolder(parent, name, {
        force: false,
        lock: "train",
        fill: async (f) => {
          await f.writeJson("config.json", config);
          await f.writeJson("split.json", task.split());
          await saveCheckpoint(f, config, layout, state, false);
        },
      });
      folders.push(folder);
      group.push({
        task,
        train: config.train,
        state,
        hooks: {
          onMetrics: async (step: number, metrics: Record<string, number>) => {
            const time_s = (performance.now() - t0) / 1000;
            await folder.appendMetrics({ step, ...metrics, time_s });
            options.onMetrics?.(name, step, metrics);
          },
          onCheckpoint: (s: TrainState, final: boolean) =>
            saveCheckpoint(folder, config, layout, s, final),
        },
      });
    }
    const t0 = performance.now();
    const shouldStop = options.shouldStop ?? (() => false);
    await trainGroupOnGpu(gpu, { model: members[0]!.config.model, layout }, group, { shouldStop });
  } finally {
    folders.forEach((f) => f.release());
  }
}

/**
 * Continues the run in `path` from its last checkpoint to its configured steps, or to `steps`
 * (rewriting `config.json`): metrics after that checkpoint are dropped and recomputed, so the
 * result is the uninterrupted run's, bitwise, as if it had been asked for those steps at start. It
 * holds the folder's `run.lock` (a run still training is refused in one line) and checks every file
 * it reads (`readRunConfig`, the optimizer state, the checkpoint).
 *
 * @example
 * ```ts ignore
 * await resumeRun("runs/smoke", { device: "auto", steps: 3000 });
 * ```
 */
export async function resumeRun(path: string, options: ResumeOptions): Promise<RunFolder> {
  const folder = await openRunFolder(path);
  const lock = await acquireLock(folder.path, { command: "train --resume" });
  try {
    const saved = await readRunConfig(folder);
    const config = { ...saved, train: extendedTrain(saved.train, options.steps) };
    const { task, gpu } = await prepare(config, options.device);
    try {
      const state = await loadState(folder, paramLayout(config.model), config.train);
      if (config.train.steps !== saved.train.steps) await folder.writeJson("config.json", config);
      options.log?.(`resuming ${path} at step ${state.step} of ${config.train.steps}`);
      // time_s goes on from the checkpoint's line, so curves against time stay in order.
      const lines = await folder.readMetrics();
      const at = lines.findLast((m) => (m.step ?? -1) <= state.step);
      await folder.truncateMetricsAfter(lastKeptStep(state.step, config.train));
      const timeOffset = at?.time_s ?? 0;
      await train(folder, config, state, { ...options, gpu, task, timeOffset });
    } finally {
      gpu?.destroy();
    }
  } finally {
    lock.release();
  }
  return folder;
}

/**
 * `train` with its steps extended to `steps`: more steps only, and not under a cosine schedule,
 * whose every learning rate depends on the total.
 */
function extendedTrain(train: TrainConfig, steps: number | undefined): TrainConfig {
  if (steps === undefined || steps === train.steps) return train;
  if (steps < train.steps) {
    throw new RangeError(
      `--steps ${steps}: the run has ${train.steps} steps; --resume --steps can only extend it`,
    );
  }
  if (train.schedule === "cosine") {
    throw new RangeError(
      `--steps ${steps}: the run's cosine schedule spans its ${train.steps} steps, so more steps ` +
        "would change the learning rates it trained with; start a new run",
    );
  }
  const extended = { ...train, steps };
  validateTrainConfig(extended);
  return extended;
}

/**
 * The last metrics line kept when resuming at `step`: the lines an uninterrupted run writes up to
 * it. A run stopped between evaluations logged its last step (for the page), which the
 * uninterrupted run does not; a run resumed at step 0 evaluates step 0 afresh.
 */
function lastKeptStep(step: number, train: TrainConfig): number {
  if (step === 0) return -1;
  return step % train.eval_every === 0 || step === train.steps ? step : step - 1;
}
