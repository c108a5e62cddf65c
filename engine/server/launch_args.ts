/**
 * From the body of `POST /api/runs` to the command line of `mechlab train`: the body is checked
 * field by field, the config resolved with `resolveConfig` (so a bad value is a 400 here, not a
 * child that dies), and then every field of the resolved config is written as a flag, so the child
 * trains exactly that config whatever the preset's defaults or the command line's own rules (such
 * as `d_head` following `d_model / n_heads` when it is not given).
 *
 * Flags are config keys in kebab case (`frac_train` is `--frac-train`), always as `--flag=value`
 * so a value starting with `-` is not read as a flag; `normalization_type: null` is
 * `--normalization-type=none`; a boolean is its bare flag when true. A false boolean has no flag,
 * so one the preset sets true cannot be turned off: that is checked, by resolving the flags'
 * config again and comparing, and refused with the field's name.
 *
 * @module
 */

import type { LaunchRequest } from "./api_types.ts";
import { buildTask, DEFAULT_TASKS, isTaskName, TASK_NAMES } from "../data/mod.ts";
import type { RunConfig } from "../runs/mod.ts";
import { type Overrides, PRESETS, resolveConfig } from "../train/presets.ts";
import { isOneOf, listed } from "../model/choices.ts";
import { DEFAULT_MODEL } from "../model/config.ts";
import { DEVICES } from "../gpu/mod.ts";
import { DEFAULT_TRAIN } from "../train/config.ts";
import { checkRunFits } from "../train/memory.ts";
import { validateRunName } from "../runs/mod.ts";

/** A launch ready to start: the config the child will train, and `train`'s arguments for it. */
export interface Launch {
  config: RunConfig;
  /** Every config field as a flag, after `--preset`; `--out`, `--name`, `--device` are added. */
  flags: string[];
}

type Section = "task" | "model" | "train";
const SECTIONS: readonly Section[] = ["task", "model", "train"];

/** Fields the task sets (`resolveConfig` overwrites them), so an override could only mislead. */
const DERIVED = new Set(["d_vocab", "d_vocab_out", "n_ctx"]);
/** Config fields `mechlab train` has no flag for: they keep the preset's value. */
const NO_FLAG: Record<Section, ReadonlySet<string>> = {
  task: new Set(["vocab"]), // the text task's, read from its file
  model: new Set([...DERIVED, "eps"]), // LayerNorm's eps: an imported model's; training keeps 1e-5
  train: new Set(["eps"]),
};

/**
 * Checks a request body: `{ preset, overrides?: { task?, model?, train? }, name?, device? }`,
 * nothing else. Each override must be a known field of its section with the default's type; a
 * problem is a one-line `RangeError` naming the field.
 *
 * @example
 * ```ts
 * import { parseLaunchBody } from "./launch_args.ts";
 * parseLaunchBody({ preset: "smoke", overrides: { train: { steps: 40 } } }).preset; // "smoke"
 * try { parseLaunchBody({ preset: "smoke", overrides: { train: { stpes: 40 } } }); }
 * catch (e) { (e as Error).message; } // starts "overrides.train.stpes: unknown field"
 * ```
 */
export function parseLaunchBody(body: unknown): LaunchRequest {
  if (!isObject(body)) throw new RangeError("the body must be a JSON object");
  for (const key of Object.keys(body)) {
    if (!["preset", "overrides", "name", "device"].includes(key)) {
      throw new RangeError(`unknown field '${key}' (preset, overrides, name, device)`);
    }
  }
  const { preset, name, device } = body;
  const presets = Object.keys(PRESETS).join(", ");
  if (preset === undefined) throw new RangeError(`preset: missing (${presets})`);
  if (typeof preset !== "string") throw new RangeError(`preset: not a string (${presets})`);
  if (!Object.hasOwn(PRESETS, preset)) {
    throw new RangeError(`unknown preset '${preset}' (${presets})`);
  }
  const presetTask = PRESETS[preset as keyof typeof PRESETS].task.task;
  const out: LaunchRequest = { preset, overrides: checkOverrides(body.overrides, presetTask) };
  if (name !== undefined) {
    if (typeof name !== "string") throw new RangeError("name: not a string");
    validateRunName(name);
    out.name = name;
  }
  if (device !== undefined) {
    if (!isOneOf(device, DEVICES)) {
      throw new RangeError(`device ${JSON.stringify(device)}: expected ${listed(DEVICES)}`);
    }
    out.device = device;
  }
  return out;
}

/**
 * Resolves a request's config and writes it as `train` flags; a one-line `RangeError` for an
 * unknown preset, a bad value, a run too big for this machine, or a value no flag can carry.
 *
 * @example
 * ```ts
 * import { launchFlags } from "./launch_args.ts";
 * const { config, flags } = launchFlags(
 *   { preset: "smoke", overrides: { task: { p: 7 }, model: { normalization_type: null } } },
 *   "0.1.0",
 * );
 * "p" in config.task && config.task.p; // 7
 * flags.includes("--p=7"); // true
 * flags.includes("--normalization-type=none"); // true
 * flags[0]; // "--preset=smoke"
 * ```
 */
export function launchFlags(request: LaunchRequest, version: string): Launch {
  const config = resolveConfig(request.preset, request.overrides, version);
  // What `train` would refuse for want of memory is refused here, before a child starts.
  checkRunFits(config, buildTask(config.task), { device: request.device ?? "auto" });
  const flags = [`--preset=${request.preset}`];
  const asFlags: Required<Overrides> = { task: {}, model: {}, train: {} };
  for (const section of SECTIONS) {
    const target = asFlags[section] as Record<string, unknown>;
    for (const [key, value] of Object.entries(config[section])) {
      if (NO_FLAG[section].has(key)) continue;
      const flag = `--${key.replaceAll("_", "-")}`;
      if (value === true) flags.push(flag);
      else if (value === null) flags.push(`${flag}=none`);
      else if (typeof value === "number" || typeof value === "string") {
        flags.push(`${flag}=${String(value)}`);
      }
      if (value !== false) target[key] = value;
    }
  }
  // What the child will resolve from those flags must be this config, field for field.
  const child = resolveConfig(request.preset, asFlags, version);
  for (const section of SECTIONS) {
    for (const [key, value] of Object.entries(config[section])) {
      const got = (child[section] as unknown as Record<string, unknown>)[key];
      if (!Object.is(got, value)) {
        throw new RangeError(
          `overrides.${section}.${key} ${JSON.stringify(value)}: train has no flag to undo ` +
            `preset ${request.preset}'s ${JSON.stringify(got)}`,
        );
      }
    }
  }
  return { config, flags };
}

/** The overrides object, each field known and of its default's type. */
function checkOverrides(overrides: unknown, presetTask: string): Overrides {
  if (overrides === undefined) return {};
  if (!isObject(overrides)) throw new RangeError("overrides: not an object");
  const out: Overrides = {};
  for (const [section, fields] of Object.entries(overrides)) {
    if (!(SECTIONS as readonly string[]).includes(section)) {
      throw new RangeError(`overrides.${section}: unknown section (task, model, train)`);
    }
    if (!isObject(fields)) throw new RangeError(`overrides.${section}: not an object`);
    const defaults = sectionDefaults(section as Section, fields.task ?? presetTask);
    for (const [key, value] of Object.entries(fields)) {
      const where = `overrides.${section}.${key}`;
      if (section === "model" && DERIVED.has(key)) {
        throw new RangeError(`${where}: set by the task, not overridable`);
      }
      if (!(key in defaults)) {
        throw new RangeError(`${where}: unknown field (${Object.keys(defaults).join(", ")})`);
      }
      if (NO_FLAG[section as Section].has(key)) {
        throw new RangeError(`${where}: mechlab train has no flag for it`);
      }
      const expected = key === "normalization_type" ? "string" : typeof defaults[key];
      const ok = typeof value === expected || (key === "normalization_type" && value === null);
      if (!ok) throw new RangeError(`${where} ${JSON.stringify(value)}: expected a ${expected}`);
      if (typeof value === "number" && !Number.isFinite(value)) {
        throw new RangeError(`${where} ${value}: not a finite number`);
      }
    }
    (out as Record<string, unknown>)[section] = fields;
  }
  return out;
}

/** A section's fields with their defaults: the task's are those of the task the run will do. */
function sectionDefaults(section: Section, task: unknown) {
  if (section === "model") return DEFAULT_MODEL as unknown as Record<string, unknown>;
  if (section === "train") return DEFAULT_TRAIN as unknown as Record<string, unknown>;
  if (!isTaskName(task)) {
    throw new RangeError(
      `overrides.task.task ${JSON.stringify(task)}: expected ${TASK_NAMES.join(", ")}`,
    );
  }
  return DEFAULT_TASKS[task] as unknown as Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
