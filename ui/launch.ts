/**
 * The launch form's fields and the `POST /api/runs` body they make. An empty field keeps the
 * preset's value; a field whose value is a choice (the server lists the allowed values in
 * `GET /api/presets`) is a select, so only a value `train` accepts can be picked. The server
 * resolves and checks the config and answers 400 with one line.
 *
 * @module
 */

import type { Choice, LaunchRequest, Preset, PresetsAnswer } from "./types.ts";

/** A config field the form offers, and the part of the config it belongs to. */
export interface OverrideField {
  id: string;
  part: "task" | "model" | "train";
  /** A number typed in; otherwise a choice among the server's values. */
  numeric: boolean;
  /** Shown in the form's folded "advanced" group: set less often, kept out of the way. */
  advanced?: true;
}

/**
 * The config fields the form offers, in display order; each is the config field of that name.
 * `eval_every` and `checkpoint_every` set how often the curves get a point and the views a step.
 * The advanced ones are `train`'s `--positional-embedding-type` and Grokfast's two flags, so a
 * launch from the page can train what those flags do.
 */
export const OVERRIDE_FIELDS: readonly OverrideField[] = [
  { id: "task", part: "task", numeric: false },
  { id: "op", part: "task", numeric: false },
  { id: "p", part: "task", numeric: true },
  { id: "steps", part: "train", numeric: true },
  { id: "lr", part: "train", numeric: true },
  { id: "eval_every", part: "train", numeric: true },
  { id: "checkpoint_every", part: "train", numeric: true },
  { id: "seed", part: "model", numeric: true },
  { id: "act_fn", part: "model", numeric: false },
  { id: "normalization_type", part: "model", numeric: false },
  { id: "trainable_biases", part: "model", numeric: false },
  { id: "positional_embedding_type", part: "model", numeric: false, advanced: true },
  { id: "grokfast_alpha", part: "train", numeric: true, advanced: true },
  { id: "grokfast_lambda", part: "train", numeric: true, advanced: true },
];

/**
 * The form as typed or picked: the preset, the run name, the device, and each field's text (a
 * choice as `choiceText` writes it); "" keeps the preset's value (the device: `auto`).
 */
export type LaunchFields =
  & { preset: string; name: string; device: string }
  & Record<string, string>;

/**
 * The form before anything is typed: on `preset`, every field empty.
 *
 * @example
 * ```ts
 * import { emptyFields } from "./launch.ts";
 * emptyFields("smoke").steps; // ""
 * ```
 */
export function emptyFields(preset: string): LaunchFields {
  const fields: LaunchFields = { preset, name: "", device: "" };
  for (const f of OVERRIDE_FIELDS) fields[f.id] = "";
  return fields;
}

/**
 * A choice as a select's option value and label: `null` (no normalization) is "none", as
 * `train`'s flag spells it.
 *
 * @example
 * ```ts
 * import { choiceText } from "./launch.ts";
 * choiceText(null); // "none"
 * choiceText("LN"); // "LN"
 * ```
 */
export function choiceText(choice: Choice): string {
  return choice === null ? "none" : choice;
}

/**
 * The request body from the form: only the fields filled in, numbers parsed, "none" as `null`. A
 * number field that does not parse throws a `RangeError` with one line naming it.
 *
 * @example
 * ```ts
 * import { emptyFields, launchRequest } from "./launch.ts";
 * launchRequest({ ...emptyFields("smoke"), steps: "300", op: "sub", normalization_type: "none" });
 * // { preset: "smoke", overrides: { task: { op: "sub" }, train: { steps: 300 }, model: { normalization_type: null } } }
 * ```
 */
export function launchRequest(fields: LaunchFields): LaunchRequest {
  const overrides: Record<OverrideField["part"], Record<string, unknown>> = {
    task: {},
    model: {},
    train: {},
  };
  for (const f of OVERRIDE_FIELDS) {
    const text = (fields[f.id] ?? "").trim();
    if (text === "") continue;
    const value = f.numeric ? Number(text) : text === "none" ? null : text;
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new RangeError(`${f.id} '${text}' is not a number`);
    }
    overrides[f.part][f.id] = value;
  }
  const filled = Object.fromEntries(
    Object.entries(overrides).filter(([, part]) => Object.keys(part).length > 0),
  );
  const name = fields.name.trim();
  return {
    preset: fields.preset,
    // The server checks each field's name and type (a 400 naming it), as from any client.
    overrides: filled as LaunchRequest["overrides"],
    ...(name === "" ? {} : { name }),
    ...(fields.device === ""
      ? {}
      : { device: fields.device as NonNullable<LaunchRequest["device"]> }),
  };
}

/**
 * What an empty field means: the preset's value (its own, or the default it leaves), "none" for
 * `null`; "default" before the presets are loaded.
 *
 * @example
 * ```ts
 * import { OVERRIDE_FIELDS, placeholder } from "./launch.ts";
 * import { resolveConfig } from "../engine/train/presets.ts";
 * const smoke = { why: "", ...resolveConfig("smoke", {}, "") };
 * placeholder(smoke, OVERRIDE_FIELDS.find((f) => f.id === "steps")!); // "1500"
 * placeholder(smoke, OVERRIDE_FIELDS.find((f) => f.id === "normalization_type")!); // "none"
 * placeholder(undefined, OVERRIDE_FIELDS.find((f) => f.id === "seed")!); // "default"
 * ```
 */
export function placeholder(preset: Preset | undefined, field: OverrideField): string {
  const part = preset?.[field.part] as Record<string, unknown> | undefined;
  const v = part?.[field.id];
  return v === undefined ? "default" : v === null ? "none" : String(v);
}

/**
 * The values a field may take, as the server lists them, or undefined for a field typed in.
 *
 * @example
 * ```ts
 * import { choicesOf, OVERRIDE_FIELDS } from "./launch.ts";
 * const choices = { task: {}, model: { normalization_type: ["LN", null] }, train: {}, device: [] };
 * choicesOf(choices, OVERRIDE_FIELDS.find((f) => f.id === "normalization_type")!); // ["LN", null]
 * choicesOf(choices, OVERRIDE_FIELDS.find((f) => f.id === "steps")!); // undefined
 * ```
 */
export function choicesOf(
  choices: PresetsAnswer["choices"] | undefined,
  field: OverrideField,
): Choice[] | undefined {
  return field.numeric ? undefined : choices?.[field.part][field.id];
}
