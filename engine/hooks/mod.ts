/**
 * Hooks: TransformerLens' `run_with_cache` and `run_with_hooks` on the float64 CPU model, the f32
 * CPU model (`f32Runner`) and the GPU model alike, with interventions written as data (zero, mean and resample ablation,
 * patching from a cache, adding a vector) so that the GPU carries them out between its pre-bound
 * dispatches. `hookPoints` lists the hook names with their shapes; an unknown name is an error
 * that suggests the closest.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuRunner, hookPoints } from "./mod.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * hookPoints(cfg, 1, 3).map((p) => p.name); // ["hook_embed", "hook_pos_embed", ...]
 * const runner = cpuRunner(cfg, weights);
 * const { cache } = await runner.runWithCache(new Int32Array([3, 5, 113]), 1, {
 *   names: ["blocks.0.hook_resid_post"],
 * });
 * ```
 *
 * @module
 */

export * from "./types.ts";
export {
  gpuEditRefusal,
  gradHookPoint,
  hookPoint,
  hookPoints,
  positionsOf,
} from "./hook_points.ts";
export { cpuRunner } from "./cpu_runner.ts";
export { f32Runner } from "./f32_runner.ts";
export { gpuRunner, type GpuRunnerOptions } from "./gpu_runner.ts";
