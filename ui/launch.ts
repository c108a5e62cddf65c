/**
 * The launch form's fields and the `POST /api/runs` body they make. An empty field keeps the
 * preset's value; the server resolves and checks the config and answers 400 with one line.
 *
 * @module
 */

import type { LaunchRequest, Preset } from "./types.ts";

/** An override the form offers: its field, and where it goes in the config. */
export interface OverrideField {
  id: "steps" | "lr" | "p" | "op" | "seed";
  part: "task" | "model" | "train";
  numeric: boolean;
}

/** The overrides the form offers, in display order; each is the config field of the same name. */
export const OVERRIDE_FIELDS: readonly OverrideField[] = [
  { id: "steps", part: "train", numeric: true },
  { id: "lr", part: "train", numeric: true },
  { id: "p", part: "task", numeric: true },
  { id: "op", part: "task", numeric: false },
  { id: "seed", part: "model", numeric: true },
];

/** The form as typed: the preset, the run name, and each override's text. */
export type LaunchFields = { preset: string; name: string } & Record<OverrideField["id"], string>;

/**
 * The request body from the form: only the fields filled in, numbers parsed. A number field that
 * does not parse throws a `RangeError` with one line naming it.
 *
 * @example
 * ```ts
 * import { launchRequest } from "./launch.ts";
 * launchRequest({ preset: "smoke", name: "", steps: "300", lr: "", p: "31", op: "sub", seed: "" });
 * // { preset: "smoke", overrides: { train: { steps: 300 }, task: { p: 31, op: "sub" } } }
 * ```
 */
export function launchRequest(fields: LaunchFields): LaunchRequest {
  const overrides: LaunchRequest["overrides"] = {};
  for (const f of OVERRIDE_FIELDS) {
    const text = fields[f.id].trim();
    if (text === "") continue;
    const value = f.numeric ? Number(text) : text;
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new RangeError(`${f.id} '${text}' is not a number`);
    }
    (overrides[f.part] ??= {})[f.id] = value;
  }
  const name = fields.name.trim();
  return { preset: fields.preset, overrides, ...(name === "" ? {} : { name }) };
}

/**
 * What an empty field means: the preset's own value, or "default" where the preset leaves it to
 * the defaults.
 *
 * @example
 * ```ts
 * import { OVERRIDE_FIELDS, placeholder } from "./launch.ts";
 * const smoke = { why: "", task: { task: "modular", p: 23 }, model: {}, train: { steps: 1500 } };
 * placeholder(smoke, OVERRIDE_FIELDS[0]!); // "1500"
 * placeholder(smoke, OVERRIDE_FIELDS[4]!); // "default"
 * ```
 */
export function placeholder(preset: Preset | undefined, field: OverrideField): string {
  const v = preset?.[field.part][field.id];
  return v === undefined ? "default" : String(v);
}
