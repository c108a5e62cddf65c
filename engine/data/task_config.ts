/**
 * A task as a run's config names it (`{"task": "modular", "p": 113, ...}`), its defaults, and the
 * task's data built from it: what training, analysis and the server all start from.
 *
 * @module
 */

import { DEFAULT_MODULAR, type ModularOptions, modularTask } from "./modular.ts";
import { DEFAULT_OOCL, type OoclOptions, ooclTask } from "./oocl.ts";
import { type BracketsOptions, bracketsTask, DEFAULT_BRACKETS } from "./brackets.ts";
import type { TaskData } from "./task.ts";

/** The modular-arithmetic task's settings: `modularTask`'s options, named. */
export type ModularTaskConfig = { task: "modular" } & ModularOptions;

/** The out-of-context task's settings: `ooclTask`'s options, named. */
export type OoclTaskConfig = { task: "oocl" } & OoclOptions;

/** The balanced-brackets task's settings: `bracketsTask`'s options, named. */
export type BracketsTaskConfig = { task: "brackets" } & BracketsOptions;

/** Which task, and its settings. */
export type TaskConfig = ModularTaskConfig | OoclTaskConfig | BracketsTaskConfig;

/** The tasks' defaults. */
export const DEFAULT_TASKS = {
  modular: { task: "modular", ...DEFAULT_MODULAR } as ModularTaskConfig,
  oocl: { task: "oocl", ...DEFAULT_OOCL } as OoclTaskConfig,
  brackets: { task: "brackets", ...DEFAULT_BRACKETS } as BracketsTaskConfig,
};

/** The tasks' names, as `--task` takes them. */
export const TASK_NAMES = Object.keys(DEFAULT_TASKS) as TaskConfig["task"][];

/**
 * Whether `name` is one of `TASK_NAMES`.
 *
 * @example
 * ```ts
 * import { isTaskName } from "./task_config.ts";
 * [isTaskName("brackets"), isTaskName("sorting")]; // [true, false]
 * ```
 */
export function isTaskName(name: unknown): name is TaskConfig["task"] {
  return (TASK_NAMES as unknown[]).includes(name);
}

/**
 * The task's data from its config (one-line `RangeError`s on bad settings).
 *
 * @example
 * ```ts
 * import { buildTask, DEFAULT_TASKS } from "./task_config.ts";
 * buildTask({ ...DEFAULT_TASKS.modular, p: 7 }).vocab.d_vocab; // 8
 * ```
 */
export function buildTask(task: TaskConfig): TaskData {
  switch (task.task) {
    case "modular":
      return modularTask(task);
    case "oocl":
      return ooclTask(task);
    case "brackets":
      return bracketsTask(task);
  }
}
