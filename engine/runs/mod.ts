/**
 * Where runs are stored: safetensors checkpoints a Python user can load, and wandb-like run
 * folders (`config.json`, `split.json`, `metrics.jsonl`, `checkpoints/`).
 *
 * @example
 * ```ts
 * import { createRunFolder, readSafetensors, writeSafetensorsAtomic } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const dir = await Deno.makeTempDir();
 * const run = await createRunFolder(dir, "demo", {});
 * await writeSafetensorsAtomic(run.checkpointPath(100), { "embed.W_E": tensor([1, 2], [1, 2], "f32") }, {
 *   config: JSON.stringify({ d_model: 2 }),
 * });
 * (await run.listCheckpoints()).map((c) => c.step); // [100]
 * (await readSafetensors(run.checkpointPath(100))).metadata.config; // '{"d_model":2}'
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./safetensors.ts";
export * from "./run_folder.ts";
export * from "./run_config.ts";
export * from "./checkpoint.ts";
export * from "./run_error.ts";
export * from "./lock.ts";
export * from "./run_create.ts";
export * from "./confine.ts";
export * from "./run_schema.ts";
