/**
 * A task as a run's config names it (`{"task": "modular", "p": 113, ...}`), its defaults, and the
 * task's data built from it: what training, analysis and the server all start from.
 *
 * @module
 */

import { DEFAULT_MODULAR, type ModularOptions, modularTask } from "./modular.ts";
import { DEFAULT_OOCL, type OoclOptions, ooclTask } from "./oocl.ts";
import { DEFAULT_INDUCTION, type InductionOptions, inductionTask } from "./induction.ts";
import { type BracketsOptions, bracketsTask, DEFAULT_BRACKETS } from "./brackets.ts";
import { DEFAULT_STRINGS, type StringsOptions, stringsTask } from "./strings.ts";
import { DEFAULT_TEXT, type TextOptions, textShape, textTask } from "./text.ts";
import {
  DEFAULT_PRETRAINED,
  pretrainedAnalysisTask,
  type PretrainedOptions,
  pretrainedShape,
} from "./pretrained.ts";
import type { TaskData, Vocab } from "./task.ts";

/** The modular-arithmetic task's settings: `modularTask`'s options, named. */
export type ModularTaskConfig = { task: "modular" } & ModularOptions;

/** The out-of-context task's settings: `ooclTask`'s options, named. */
export type OoclTaskConfig = { task: "oocl" } & OoclOptions;

/** The repeated-random-tokens task's settings: `inductionTask`'s options, named. */
export type InductionTaskConfig = { task: "induction" } & InductionOptions;

/** The balanced-brackets task's settings: `bracketsTask`'s options, named. */
export type BracketsTaskConfig = { task: "brackets" } & BracketsOptions;

/** The string-manipulation task's settings: `stringsTask`'s options, named. */
export type StringsTaskConfig = { task: "strings" } & StringsOptions;

/** The character-level language model's settings: `textTask`'s options, named. */
export type TextTaskConfig = { task: "text" } & TextOptions;

/** An imported model's (`mechlab import`): its token text and shape, no training data. */
export type PretrainedTaskConfig = { task: "pretrained" } & PretrainedOptions;

/** Which task, and its settings. */
export type TaskConfig =
  | ModularTaskConfig
  | OoclTaskConfig
  | BracketsTaskConfig
  | StringsTaskConfig
  | TextTaskConfig
  | InductionTaskConfig
  | PretrainedTaskConfig;

/** The tasks' defaults. */
export const DEFAULT_TASKS = {
  modular: { task: "modular", ...DEFAULT_MODULAR } as ModularTaskConfig,
  oocl: { task: "oocl", ...DEFAULT_OOCL } as OoclTaskConfig,
  induction: { task: "induction", ...DEFAULT_INDUCTION } as InductionTaskConfig,
  brackets: { task: "brackets", ...DEFAULT_BRACKETS } as BracketsTaskConfig,
  strings: { task: "strings", ...DEFAULT_STRINGS } as StringsTaskConfig,
  text: { task: "text", ...DEFAULT_TEXT } as TextTaskConfig,
  pretrained: { task: "pretrained", ...DEFAULT_PRETRAINED } as PretrainedTaskConfig,
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
 * The task's data from its config (one-line `RangeError`s on bad settings; an imported model's
 * task has no data, which is one too).
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
    case "induction":
      return inductionTask(task);
    case "brackets":
      return bracketsTask(task);
    case "strings":
      return stringsTask(task);
    case "text":
      return textTask(task);
    case "pretrained":
      throw new RangeError(
        `task pretrained (imported from ${task.source}) has no training data: sample from it, ` +
          "analyse it (`mechlab analyze`), look at it on prompts in `mechlab serve`, or train " +
          "another task",
      );
  }
}

/**
 * The examples an analysis runs a task's model on: the task's data (`buildTask`), or for an
 * imported model, which has none, its synthetic batch of repeated random tokens
 * (`pretrainedAnalysisTask`).
 *
 * @example
 * ```ts
 * import { analysisTask, DEFAULT_TASKS } from "./task_config.ts";
 * analysisTask({ ...DEFAULT_TASKS.pretrained, tokenizer: "none", d_vocab: 10, n_ctx: 9 }).n_ctx; // 9
 * ```
 */
export function analysisTask(task: TaskConfig): TaskData {
  return task.task === "pretrained" ? pretrainedAnalysisTask(task) : buildTask(task);
}

/**
 * A task's vocabulary and n_ctx from its config, checked: a text task's without reading its file
 * (a saved run's config names its characters), an imported model's from its config, any other's
 * by building it.
 *
 * @example
 * ```ts
 * import { DEFAULT_TASKS, taskShape } from "./task_config.ts";
 * taskShape({ ...DEFAULT_TASKS.text, vocab: "ab", data: "gone.txt" }).vocab.d_vocab; // 2
 * ```
 */
export function taskShape(task: TaskConfig): { vocab: Vocab; n_ctx: number } {
  if (task.task === "text") return textShape(task);
  return task.task === "pretrained" ? pretrainedShape(task) : buildTask(task);
}

/**
 * A config as a run saves it: a text task's vocabulary filled in from its data, so the run
 * decodes its tokens without the file.
 *
 * @example
 * ```ts
 * import { buildTask, DEFAULT_TASKS, savedTask } from "./task_config.ts";
 * savedTask(DEFAULT_TASKS.modular, buildTask(DEFAULT_TASKS.modular)).task; // "modular"
 * ```
 */
export function savedTask(task: TaskConfig, data: TaskData): TaskConfig {
  return task.task === "text" ? { ...task, vocab: data.vocab.labels.join("") } : task;
}
