/**
 * A run opened for generation: its config, vocabulary and the weights of one checkpoint (the last
 * by default), wrapped in a `TokenModel` on the chosen device, cached or not.
 *
 * @module
 */

import { type CheckpointedRun, findCheckpoint, openCheckpointedRun } from "../analysis/run_data.ts";
import { taskShape } from "../data/task_config.ts";
import type { Vocab } from "../data/task.ts";
import { type Gpu, type GpuTensor, requestGpu } from "../gpu/mod.ts";
import type { ParamLayout, ParamSpec } from "../model/params.ts";
import { readCheckpointEach, readCheckpointParams } from "../runs/checkpoint.ts";
import { RunInputError } from "../runs/run_error.ts";
import { CpuCachedModel } from "./cpu_cached.ts";
import { CpuUncachedModel } from "./cpu_uncached.ts";
import { GpuCachedModel } from "./gpu_cached.ts";
import { GpuUncachedModel } from "./gpu_uncached.ts";
import type { TokenModel } from "./source.ts";

/** Where and how a run's model samples. */
export interface SampleModelOptions {
  /** The checkpoint's step; the run's last checkpoint when absent. */
  step?: number | undefined;
  /** `cpu` (the f32 model) or `gpu` (the WGSL kernels; default `cpu`). */
  device?: "cpu" | "gpu" | undefined;
  /** Keep a key-value cache (default true); false reruns the whole sequence at each token. */
  cache?: boolean | undefined;
  /**
   * The most positions the sequence will hold (the prompt and every new token but the last), at
   * most n_ctx (the default): the GPU's key-value caches hold no more (GPT-2's for all 1,024
   * positions are 75 MiB). The CPU's grow as they go.
   */
  positions?: number | undefined;
}

/** A run's model ready to sample from. */
export interface SampleModel {
  model: TokenModel;
  vocab: Vocab;
  /** The checkpoint's step. */
  step: number;
}

/**
 * Opens the run at `path` (or takes one its caller has opened) and its checkpoint for sampling; a
 * missing run or checkpoint is a one-line `RunInputError`.
 *
 * @example
 * ```ts ignore
 * const { model, vocab } = await openSampleModel("runs/smoke", { step: 100 });
 * ```
 */
export async function openSampleModel(
  path: string | CheckpointedRun,
  options: SampleModelOptions = {},
): Promise<SampleModel> {
  const run = typeof path === "string" ? await openCheckpointedRun(path) : path;
  // From the config alone: a text run names its characters, so its file need not be at hand.
  const { vocab } = taskShape(run.config.task);
  const checkpoint = options.step === undefined
    ? run.checkpoints.at(-1)!
    : findCheckpoint(run, options.step);
  const cfg = run.config.model;
  const cache = options.cache ?? true;
  if (options.device !== "gpu") {
    const { params } = await readCheckpointParams(checkpoint.path, run.layout);
    const model = cache
      ? new CpuCachedModel(cfg, run.layout, params)
      : new CpuUncachedModel(cfg, run.layout, params);
    return { model, vocab, step: checkpoint.step };
  }
  const gpu = await requestGpu();
  try {
    checkGpuFits(gpu, run.layout);
  } catch (e) {
    gpu.destroy();
    throw e;
  }
  let onGpu: GpuCachedModel | GpuUncachedModel;
  try {
    if (cache) {
      // Straight from the file to the GPU, never whole on the CPU.
      const { params } = await uploadCheckpointParams(gpu, checkpoint.path, run.layout);
      const positions = { positions: options.positions };
      onGpu = await GpuCachedModel.create(gpu, cfg, run.layout, params, positions);
    } else {
      const { params } = await readCheckpointParams(checkpoint.path, run.layout);
      onGpu = await GpuUncachedModel.create(gpu, cfg, run.layout, params);
    }
  } catch (e) {
    gpu.destroy();
    throw e;
  }
  // The device is this model's alone: released with it.
  const model: TokenModel = {
    nCtx: onGpu.nCtx,
    get length() {
      return onGpu.length;
    },
    push: (token) => onGpu.push(token),
    release() {
      onGpu.release();
      gpu.destroy();
    },
  };
  return { model, vocab, step: checkpoint.step };
}

/**
 * A one-line `RunInputError` when the weights cannot be bound on this adapter: the flat array over
 * its `maxBufferSize`, or a weight over its `maxStorageBufferBindingSize`, rather than a
 * validation error from deep in the kernels. `W_E` and `W_U` are bound in blocks of rows
 * (`engine/model/gpu/binding.ts`), so GPT-2's 154 MB ones sample on lavapipe's 128 MiB.
 */
function checkGpuFits(gpu: Gpu, layout: ParamLayout): void {
  const { maxBufferSize, maxStorageBufferBindingSize } = gpu.device.limits;
  // W_E and W_U are bound in blocks of rows (engine/model/gpu/binding.ts).
  const bound = layout.specs.filter((s) => s.name !== "unembed.W_U" && s.name !== "embed.W_E");
  const largest = bound.reduce((a, b) => (b.size > a.size ? b : a));
  const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
  if (4 * layout.size > maxBufferSize) {
    throw new RunInputError(
      `the weights (${mb(4 * layout.size)}) exceed this adapter's buffer size ` +
        `(${mb(maxBufferSize)}); use --device cpu`,
    );
  }
  if (4 * largest.size > maxStorageBufferBindingSize) {
    throw new RunInputError(
      `${largest.name} (${mb(4 * largest.size)}) exceeds what this adapter binds ` +
        `(${mb(maxStorageBufferBindingSize)}); use --device cpu`,
    );
  }
}

/** Elements per piece of `uploadCheckpointParams` (4 MiB). */
const UPLOAD_PIECE = 2 ** 20;

/**
 * The weights of the checkpoint at `path` in one GPU tensor `[layout.size]`, read from the file
 * and uploaded in pieces of at most 4 MiB through one buffer (each waited on), so the CPU holds
 * neither the weights nor a whole tensor (on a software adapter the GPU's copy is already the
 * process's memory), and the step it records; errors as `readCheckpointParams`'s.
 *
 * @example
 * ```ts ignore
 * const { params } = await uploadCheckpointParams(gpu, checkpoint.path, run.layout);
 * const model = await GpuCachedModel.create(gpu, cfg, run.layout, params);
 * ```
 */
export async function uploadCheckpointParams(
  gpu: Gpu,
  path: string,
  layout: ParamLayout,
): Promise<{ step: number; params: GpuTensor }> {
  const params = gpu.zeros([layout.size]); // the padding between weights stays zero
  const piece = new Float32Array(Math.min(UPLOAD_PIECE, layout.size));
  try {
    const into = (spec: ParamSpec) => piece.subarray(0, Math.min(piece.length, spec.size));
    const step = await readCheckpointEach(path, layout, async (spec, data, at) => {
      await gpu.writeLarge(params, data, spec.offset + at);
    }, into);
    return { step, params };
  } catch (e) {
    params.release();
    throw e;
  }
}
