/**
 * Which checkpoint the slider stands on. The slider moves over distinct steps (`final` often
 * shares its step with the last `step_` file: the same weights), and it follows new checkpoints
 * while it stands on the newest, so a live run's latest stays chosen.
 *
 * @module
 */

import type { Checkpoint } from "./types.ts";

/**
 * The distinct steps of a checkpoint list, ascending.
 *
 * @example
 * ```ts
 * import { checkpointSteps } from "./checkpoint_step.ts";
 * checkpointSteps([
 *   { step: 500, file: "step_000500.safetensors" },
 *   { step: 1000, file: "step_001000.safetensors" },
 *   { step: 1000, file: "final.safetensors" },
 * ]); // [500, 1000]
 * ```
 */
export function checkpointSteps(list: readonly Checkpoint[]): number[] {
  return [...new Set(list.map((c) => c.step))].sort((a, b) => a - b);
}

/**
 * The files saved at a step.
 *
 * @example
 * ```ts
 * import { filesAt } from "./checkpoint_step.ts";
 * filesAt([{ step: 1000, file: "step_001000.safetensors" }, { step: 1000, file: "final.safetensors" }], 1000);
 * // ["step_001000.safetensors", "final.safetensors"]
 * ```
 */
export function filesAt(list: readonly Checkpoint[], step: number | null): string[] {
  return list.filter((c) => c.step === step).map((c) => c.file);
}

/**
 * The step to stand on after the list changed from `previous` to `steps`: the newest when nothing
 * was chosen or the newest was, else the chosen one if it still exists, else the newest.
 *
 * @example
 * ```ts
 * import { chooseStep } from "./checkpoint_step.ts";
 * chooseStep([0, 500, 1000], 500, [0, 500]); // 1000: it stood on the newest, so it follows
 * chooseStep([0, 500, 1000], 0, [0, 500]); // 0: a step chosen by hand stays
 * chooseStep([], 0, [0]); // null
 * ```
 */
export function chooseStep(
  steps: readonly number[],
  current: number | null,
  previous: readonly number[],
): number | null {
  const newest = steps.at(-1);
  if (newest === undefined) return null;
  if (current === null || current === previous.at(-1)) return newest;
  return steps.includes(current) ? current : newest;
}
