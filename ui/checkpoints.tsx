/// <reference lib="dom" />
/**
 * The focused run's checkpoints: a slider over their steps that sets `checkpointStep`, which the
 * analysis views follow, and the file(s) at the chosen step.
 *
 * @module
 */

import { checkpointSteps, filesAt } from "./checkpoint_step.ts";
import { checkpoints, checkpointStep, focusedRun } from "./state.ts";

/**
 * The checkpoint slider of the run checked last.
 *
 * @example
 * ```tsx
 * import { Checkpoints } from "./checkpoints.tsx";
 * const view = <Checkpoints />;
 * ```
 */
export function Checkpoints() {
  const name = focusedRun.value;
  const list = checkpoints.value;
  const steps = checkpointSteps(list);
  const step = checkpointStep.value;
  const index = Math.max(0, step === null ? 0 : steps.indexOf(step));

  const body = () => {
    if (name === null) return <p class="hint">check a run to see its checkpoints</p>;
    if (steps.length === 0) return <p class="hint">{name} has no checkpoint yet</p>;
    return (
      <>
        <input
          type="range"
          data-testid="checkpoint-slider"
          aria-label={`checkpoint of ${name}`}
          min={0}
          max={steps.length - 1}
          step={1}
          value={index}
          onInput={(e) => checkpointStep.value = steps[Number(e.currentTarget.value)] ?? null}
        />
        <p data-testid="checkpoint-label">
          {name}: step <strong>{step}</strong> · {filesAt(list, step).join(", ")}
        </p>
        <ol class="checkpoint-steps">
          {steps.map((s) => (
            <li key={s}>
              <button
                type="button"
                class={s === step ? "chosen" : ""}
                onClick={() => checkpointStep.value = s}
              >
                {s}
              </button>
            </li>
          ))}
        </ol>
      </>
    );
  };

  return (
    <section class="checkpoints" data-testid="checkpoints">
      <h2>checkpoints</h2>
      {body()}
    </section>
  );
}
