/// <reference lib="dom" />
/**
 * The launch form: a preset (opening on the one `train` picks on the server's machine), a name,
 * the device, and the config fields a person changes most, each a select where the value is a
 * choice (those set less often, positions and Grokfast, folded under "advanced"); `POST /api/runs`
 * starts the run as a child of the server, and the new run is checked so its curves appear as it
 * trains. A 400 shows the server's one line.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { launchRun } from "./api.ts";
import {
  choicesOf,
  choiceText,
  emptyFields,
  type LaunchFields,
  launchRequest,
  OVERRIDE_FIELDS,
  type OverrideField,
  placeholder,
} from "./launch.ts";
import { checkWhenListed, presets } from "./state.ts";
import type { Choice } from "./types.ts";

/**
 * The form that starts a run.
 *
 * @example
 * ```tsx
 * import { LaunchForm } from "./launch_form.tsx";
 * const view = <LaunchForm />;
 * ```
 */
export function LaunchForm() {
  const known = presets.value;
  // Empty until the user picks: the form then follows the server's default as it loads.
  const fields = useSignal(emptyFields(""));
  const error = useSignal("");
  const started = useSignal("");
  const busy = useSignal(false);
  const names = Object.keys(known?.presets ?? {});
  const preset = fields.value.preset === "" ? known?.default ?? "" : fields.value.preset;
  const chosen = known?.presets[preset];
  const set = (key: keyof LaunchFields, value: string) => {
    fields.value = { ...fields.value, [key]: value };
  };

  async function submit(e: Event) {
    e.preventDefault();
    error.value = "";
    started.value = "";
    try {
      busy.value = true;
      const { name } = await launchRun(launchRequest({ ...fields.value, preset }));
      started.value = name;
      checkWhenListed(name);
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      busy.value = false;
    }
  }

  /** One config field: an input for a number, a select for a choice. */
  function field(f: OverrideField) {
    const choices = choicesOf(known?.choices, f);
    const value = fields.value[f.id] ?? "";
    return (
      <label key={f.id}>
        {f.id}
        {choices === undefined
          ? (
            <input
              data-testid={`launch-${f.id}`}
              inputMode="decimal"
              placeholder={placeholder(chosen, f)}
              value={value}
              onInput={(e) => set(f.id, e.currentTarget.value)}
            />
          )
          : (
            <Select
              id={f.id}
              value={value}
              keep={`${placeholder(chosen, f)} (preset)`}
              choices={choices}
              onPick={(v) => set(f.id, v)}
            />
          )}
      </label>
    );
  }

  return (
    <form class="launch" data-testid="launch-form" onSubmit={submit}>
      <h2>launch a run</h2>
      <label>
        preset
        <select
          data-testid="launch-preset"
          value={preset}
          onChange={(e) => set("preset", e.currentTarget.value)}
        >
          {names.map((n) => <option key={n} value={n}>{n}</option>)}
        </select>
      </label>
      <p class="hint">
        {preset === known?.default ? known.why : chosen?.why ?? ""}
      </p>
      <label>
        name
        <input
          data-testid="launch-name"
          placeholder="from the task"
          value={fields.value.name}
          onInput={(e) => set("name", e.currentTarget.value)}
        />
      </label>
      <label>
        device
        <Select
          id="device"
          value={fields.value.device}
          keep="auto (default)"
          choices={known?.choices.device ?? []}
          onPick={(v) => set("device", v)}
        />
      </label>
      {OVERRIDE_FIELDS.filter((f) => !f.advanced).map(field)}
      <details data-testid="launch-advanced">
        <summary>advanced: positions, Grokfast</summary>
        {OVERRIDE_FIELDS.filter((f) => f.advanced).map(field)}
      </details>
      <button type="submit" data-testid="launch-submit" disabled={busy.value || preset === ""}>
        launch
      </button>
      {error.value !== "" && <p class="error" role="alert" data-testid="launch-error">{error}</p>}
      {started.value !== "" && <p class="ok" data-testid="launch-result">started {started.value}
      </p>}
    </form>
  );
}

/** A choice field: its first option ("" , labelled `keep`) keeps the preset's value. */
function Select(
  props: {
    id: string;
    value: string;
    keep: string;
    choices: readonly Choice[];
    onPick: (value: string) => void;
  },
) {
  return (
    <select
      data-testid={`launch-${props.id}`}
      value={props.value}
      onChange={(e) => props.onPick(e.currentTarget.value)}
    >
      <option value="">{props.keep}</option>
      {props.choices.map((c) => (
        <option key={choiceText(c)} value={choiceText(c)}>{choiceText(c)}</option>
      ))}
    </select>
  );
}
