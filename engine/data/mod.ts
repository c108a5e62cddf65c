/**
 * The training tasks: modular arithmetic (the grokking task) and the out-of-context experiment.
 * Each constructor checks its options (one-line `RangeError`s naming the flag: `--p 12: op div
 * needs a prime p`) and returns a `TaskData`: the vocabulary, every example as tokens and a
 * target at the last position, and the groups with their train/test indices and loss weights.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODULAR, modularTask, ooclTask } from "./mod.ts";
 * const grok = modularTask(DEFAULT_MODULAR); // (x + y) mod 113, 3,830 pairs train
 * const oocl = ooclTask({
 *   op: "ssq",
 *   p: 7,
 *   holdout1: 0.6,
 *   holdout2: 0.6,
 *   k1: 1,
 *   k2: 1,
 *   k3: 1,
 *   data_seed: 0,
 *   symmetric_holdout: true,
 * });
 * JSON.stringify(oocl.split()); // what split.json holds
 * ```
 *
 * @module
 */

export * from "./task.ts";
export * from "./modular.ts";
export * from "./oocl.ts";
export * from "./brackets.ts";
export * from "./strings.ts";
export * from "./text.ts";
export * from "./induction.ts";
export * from "./pretrained.ts";
export * from "./task_config.ts";
