/// <reference lib="dom" />
/**
 * The prompt box of the focused run: a prompt, how many tokens, the temperature and seed; the
 * continuation streams in token by token at the checkpoint slider's step, each token shaded by
 * the model's probability of it (viridis, the analysis views' scale: dark unsure, yellow sure), the value on hover
 * and in `data-prob`.
 *
 * @module
 */

import type { Signal } from "@preact/signals";
import { colourAt, cssColour, sequentialScale } from "./analysis/colour_scale.ts";
import { checkpointStep, focusedRun } from "./state.ts";
import {
  sampled,
  sampleError,
  sampleNewTokens,
  samplePrompt,
  sampleSeed,
  sampleTemperature,
  sampling,
  startSample,
} from "./sample_stream.ts";

/** A labelled number input bound to `value` (test id `sample-ID`), at least `min` (default 0). */
function NumberField(
  props: { label: string; id: string; value: Signal<number>; min?: number; step?: number },
) {
  return (
    <label>
      {props.label}{" "}
      <input
        type="number"
        data-testid={`sample-${props.id}`}
        min={props.min ?? 0}
        step={props.step ?? 1}
        value={props.value.value}
        onInput={(e) => props.value.value = Number(e.currentTarget.value)}
      />
    </label>
  );
}

const PROB = sequentialScale("the model's probability of the token", [], { min: 0, max: 1 });

/**
 * The prompt box.
 *
 * @example
 * ```tsx
 * import { SampleBox } from "./sample.tsx";
 * const view = <SampleBox />;
 * ```
 */
export function SampleBox() {
  const run = focusedRun.value;
  const step = checkpointStep.value;
  return (
    <section class="sample" data-testid="sample">
      <h2>sample</h2>
      {run === null ? <p class="hint">check a run to sample from it</p> : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void startSample(run, step);
          }}
        >
          <input
            type="text"
            data-testid="sample-prompt"
            aria-label="prompt"
            placeholder="a prompt in the run's tokens, e.g. 3 5 ="
            value={samplePrompt.value}
            onInput={(e) => samplePrompt.value = e.currentTarget.value}
          />
          <NumberField label="tokens" id="new-tokens" value={sampleNewTokens} min={1} />
          <NumberField label="temperature" id="temperature" value={sampleTemperature} step={0.1} />
          <NumberField label="seed" id="seed" value={sampleSeed} />
          <button type="submit" data-testid="sample-submit">
            {sampling.value ? "sampling…" : "sample"}
          </button>
        </form>
      )}
      {sampleError.value !== "" && (
        <p class="error" data-testid="sample-error">{sampleError.value}</p>
      )}
      <p class="sampled" data-testid="sample-output" data-done={!sampling.value}>
        {sampled.value.map((t, i) => (
          <span
            key={i}
            class="sampled-token"
            data-testid="sample-token"
            data-token={t.token}
            data-prob={t.prob}
            title={`${JSON.stringify(t.text)}: p = ${t.prob.toFixed(3)}`}
            style={{
              background: cssColour(colourAt(PROB, t.prob)),
              color: t.prob < 0.5 ? "white" : "black", // viridis: dark low, yellow high
            }}
          >
            {t.text}
          </span>
        ))}
      </p>
    </section>
  );
}
