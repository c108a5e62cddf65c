/// <reference lib="dom" />
/**
 * The launch form: a preset and a few overrides; `POST /api/runs` starts the run as a child of
 * the server, and the new run is checked so its curves appear as it trains. A 400 shows the
 * server's one line.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { launchRun } from "./api.ts";
import { type LaunchFields, launchRequest, OVERRIDE_FIELDS, placeholder } from "./launch.ts";
import { checkWhenListed, presets } from "./state.ts";

const EMPTY: LaunchFields = { preset: "", name: "", steps: "", lr: "", p: "", op: "", seed: "" };

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
  const fields = useSignal(EMPTY);
  const error = useSignal("");
  const started = useSignal("");
  const busy = useSignal(false);
  const names = Object.keys(presets.value);
  const preset = fields.value.preset === "" ? names[0] ?? "" : fields.value.preset;
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
      <p class="hint">{presets.value[preset]?.why ?? ""}</p>
      <label>
        name
        <input
          data-testid="launch-name"
          placeholder="from the task"
          value={fields.value.name}
          onInput={(e) => set("name", e.currentTarget.value)}
        />
      </label>
      {OVERRIDE_FIELDS.map((f) => (
        <label key={f.id}>
          {f.id}
          <input
            data-testid={`launch-${f.id}`}
            inputMode={f.numeric ? "decimal" : "text"}
            placeholder={placeholder(presets.value[preset], f)}
            value={fields.value[f.id]}
            onInput={(e) => set(f.id, e.currentTarget.value)}
          />
        </label>
      ))}
      <button type="submit" data-testid="launch-submit" disabled={busy.value || preset === ""}>
        launch
      </button>
      {error.value !== "" && <p class="error" role="alert" data-testid="launch-error">{error}</p>}
      {started.value !== "" && <p class="ok" data-testid="launch-result">started {started.value}
      </p>}
    </form>
  );
}
