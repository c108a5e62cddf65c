/**
 * What a run folder's files must hold before anything uses them: `config.json` field by field
 * (each field present and of its default's type, then the model, training and task validators),
 * and a checkpoint's recorded step. `--resume`, `mechlab analyze` and the server all read a run
 * through here, so a folder edited by hand or cut short fails in one line naming the file and the
 * field (`runs/x/config.json: model.d_vocab must be a number (got undefined)`) rather than deep in
 * the trainer.
 *
 * @module
 */

import { DEFAULT_TASKS, isTaskName, TASK_NAMES, type TaskConfig, taskShape } from "../data/mod.ts";
import { DEFAULT_MODEL, type ModelConfig, validateModelConfig } from "../model/config.ts";
import { DEFAULT_TRAIN, validateTrainConfig } from "../train/config.ts";
import { RunInputError, shownValue } from "./run_error.ts";
import type { RunConfig } from "./run_config.ts";
import type { RunFolder } from "./run_folder.ts";

/**
 * The folder's `config.json`, checked by `checkRunConfig`.
 *
 * @example
 * ```ts ignore
 * const config = await readRunConfig(await openRunFolder("runs/modular_add_23"));
 * config.model.d_vocab; // 24
 * ```
 */
export async function readRunConfig(folder: RunFolder): Promise<RunConfig> {
  return checkRunConfig(await folder.readJson("config.json"), folder.file("config.json"));
}

/**
 * `value` as a `RunConfig`, or a one-line `RunInputError` starting with `where` that names the
 * first field that is missing, of the wrong type or out of range, or a model whose vocabulary and
 * context do not match its task's. Fields are typed by the defaults (`DEFAULT_MODEL`,
 * `DEFAULT_TRAIN`, the task's `DEFAULT_TASKS` entry); values are checked by the same validators a
 * new run's flags go through.
 *
 * @example
 * ```ts
 * import { checkRunConfig } from "./run_schema.ts";
 * try { checkRunConfig({}, "runs/x/config.json"); } catch (e) { (e as Error).message; }
 * // "runs/x/config.json: mechlab_version must be a string (got undefined)"
 * ```
 */
export function checkRunConfig(value: unknown, where: string): RunConfig {
  const fail = (problem: string): never => {
    throw new RunInputError(`${where}: ${problem}`);
  };
  const root = objectAt(value, "", fail);
  for (const key of ["mechlab_version", "preset"]) typed(root, key, "string", "", fail);
  const task = objectAt(root.task, "task", fail);
  if (!isTaskName(task.task)) {
    fail(`task.task must be one of ${TASK_NAMES.join(", ")} (got ${shownValue(task.task)})`);
  }
  sameTypes(task, DEFAULT_TASKS[task.task as TaskConfig["task"]], "task.", fail);
  const model = objectAt(root.model, "model", fail);
  // Runs written before `eps` have no field for it: their LayerNorms used 1e-5.
  if (!("eps" in model)) model.eps = DEFAULT_MODEL.eps;
  sameTypes(model, DEFAULT_MODEL, "model.", fail);
  const train = objectAt(root.train, "train", fail);
  // Runs written before Grokfast have no fields for it: they trained with it off.
  for (const key of ["grokfast_alpha", "grokfast_lambda"] as const) {
    if (!(key in train)) train[key] = DEFAULT_TRAIN[key];
  }
  sameTypes(train, DEFAULT_TRAIN, "train.", fail);
  const config = root as unknown as RunConfig;
  // A text task's shape is its config's: its file need not be at hand to read the run.
  const data = validated("", fail, () => taskShape(config.task));
  validated("model.", fail, () => validateModelConfig(config.model));
  validated("train.", fail, () => validateTrainConfig(config.train));
  const expected: Partial<ModelConfig> = {
    d_vocab: data.vocab.d_vocab,
    d_vocab_out: data.vocab.d_vocab_out,
    n_ctx: data.n_ctx,
  };
  for (const [key, v] of Object.entries(expected)) {
    const got = config.model[key as keyof ModelConfig];
    if (got !== v) fail(`model.${key} is ${got} but the task needs ${v}`);
  }
  return config;
}

/**
 * A checkpoint's step from its `__metadata__`, or a one-line `RunInputError` naming the file.
 *
 * @example
 * ```ts
 * import { metadataStep } from "./run_schema.ts";
 * metadataStep({ step: "500" }, "runs/x/checkpoints/final.safetensors"); // 500
 * ```
 */
export function metadataStep(metadata: Record<string, string>, path: string): number {
  const text = metadata.step;
  const step = Number(text);
  if (text === undefined || !/^\d{1,15}$/.test(text) || !Number.isSafeInteger(step)) {
    throw new RunInputError(
      `${path}: __metadata__ step must be a whole number (got ${shownValue(text)})`,
    );
  }
  return step;
}

function objectAt(
  v: unknown,
  at: string,
  fail: (p: string) => never,
): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(
      `${at === "" ? "must be a JSON object" : `${at} must be an object`} (got ${shownValue(v)})`,
    );
  }
  return v as Record<string, unknown>;
}

/** Each field of `defaults` must be in `o` with the same JSON type (null stands for a string). */
function sameTypes(
  o: Record<string, unknown>,
  defaults: object,
  prefix: string,
  fail: (p: string) => never,
): void {
  for (const [key, d] of Object.entries(defaults)) {
    // ModelConfig.normalization_type: null or "LN"; the validator checks which.
    if (d === null) {
      if (o[key] !== null && typeof o[key] !== "string") {
        fail(`${prefix}${key} must be a string or null (got ${shownValue(o[key])})`);
      }
    } else {
      typed(o, key, typeof d, prefix, fail);
    }
  }
}

function typed(
  o: Record<string, unknown>,
  key: string,
  type: string,
  prefix: string,
  fail: (p: string) => never,
): void {
  const v = o[key];
  if (typeof v !== type || (type === "number" && !Number.isFinite(v))) {
    fail(
      `${prefix}${key} must be a ${type === "number" ? "finite number" : type} (got ${
        shownValue(v)
      })`,
    );
  }
}

/**
 * `fn`'s result; its `RangeError` (a validator's one line) as a failure with `prefix`. The task
 * constructors name the flag (`--frac-train 2: ...`): the file's field is named instead.
 */
function validated<T>(prefix: string, fail: (p: string) => never, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const line = e.message.split("\n")[0]!.replace(
      /^--([a-z0-9-]+)/,
      (_, flag: string) => `task.${flag.replaceAll("-", "_")}`,
    );
    return fail(`${prefix}${line}`);
  }
}
