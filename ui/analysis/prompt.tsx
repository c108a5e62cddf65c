/// <reference lib="dom" />
/**
 * The prompt views of a run whose tokens are text (`GET vocab`'s `textual`: the `text` runs, and
 * any run whose codec reads text), at the checkpoint slider's step, analysed or not: a prompt box;
 * the prompt's tokens with the loss at each, its attention heads, the logit lens and attribution
 * at a position (`SequenceDetail`); the head detectors on repeated random tokens; and, given a
 * corrupted prompt of as many tokens (and optionally the two answer tokens, IOI style), activation
 * patching beside attribution patching (`PatchGrids`): the sweep follows attribution at once for
 * a small model, and on a button for a large one (`GET vocab`'s `eager`: an imported GPT-2), as the
 * head detectors do.
 * Everything is computed by the server on demand.
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { getDetect, getSequence, getSequencePatch, getVocab, type PatchOptions } from "../api.ts";
import { checkpointStep, focusedRun } from "../state.ts";
import type { DetectorScores, SequenceInspectReport, SequencePatchingReport } from "../types.ts";
import { Detectors, SCORE } from "./detectors.tsx";
import { ColourLegend } from "./heatmap.tsx";
import { PatchGrids } from "./patch_grids.tsx";
import { SequenceDetail } from "./sequence_detail.tsx";

/** What was asked last: the prompt, and the patching options. */
interface Asked {
  prompt: string;
  patch: PatchOptions;
}

/** A text field bound to a value, test id `prompt-ID`. */
function Field(
  props: { id: string; label: string; value: string; set: (v: string) => void; wide?: boolean },
) {
  return (
    <label class={props.wide ? "wide" : undefined}>
      {props.label}{" "}
      <input
        type="text"
        data-testid={`prompt-${props.id}`}
        value={props.value}
        onInput={(e) => props.set(e.currentTarget.value)}
      />
    </label>
  );
}

/**
 * The prompt views of the focused run, when its tokens are text.
 *
 * @example
 * ```tsx
 * import { PromptViews } from "./prompt.tsx";
 * const view = <PromptViews />;
 * ```
 */
export function PromptViews() {
  const run = focusedRun.value;
  const step = checkpointStep.value;
  const textual = useSignal(false);
  /** Whether the sweep and the detectors run unasked (a small model; `GET vocab`'s `eager`). */
  const eager = useSignal(false);
  /** Whether the sweep was asked for, for the prompts asked last. */
  const sweepAsked = useSignal(false);
  /** Whether the detectors were asked for, for the focused run. */
  const detectAsked = useSignal(false);
  const form = useSignal<Asked>({ prompt: "", patch: {} });
  const asked = useSignal<Asked | null>(null);
  const pos = useSignal<number | null>(null);
  const report = useSignal<SequenceInspectReport | null>(null);
  const patch = useSignal<SequencePatchingReport | null>(null);
  const detect = useSignal<DetectorScores | null>(null);
  const problem = useSignal("");
  const patchProblem = useSignal("");
  useEffect(() => {
    textual.value = false;
    detectAsked.value = false;
    if (run === null) return;
    let live = true;
    getVocab(run).then((v) => live && (eager.value = v.eager, textual.value = v.textual), () => {});
    return () => void (live = false);
  }, [run]);
  const detecting = textual.value && (eager.value || detectAsked.value);
  useEffect(() => {
    detect.value = null;
    if (run === null || step === null || !detecting) return;
    let live = true;
    getDetect(run, step).then((d) => live && (detect.value = d), () => {});
    return () => void (live = false);
  }, [run, step, detecting]);
  const a = asked.value;
  useEffect(() => {
    if (run === null || step === null || a === null) return;
    let live = true;
    getSequence(run, step, { prompt: a.prompt }, pos.value).then(
      (r) => live && (report.value = r, problem.value = ""),
      (e) => live && (report.value = null, problem.value = String(e?.message ?? e)),
    );
    return () => void (live = false);
  }, [run, step, a, pos.value]);
  const failed = (e: Error) => patchProblem.value = String(e?.message ?? e);
  useEffect(() => { // patching reads no position: not asked again when it moves
    if (run === null || step === null || a === null) return;
    let live = true;
    patch.value = null;
    patchProblem.value = "";
    if (a.patch.corrupt) {
      // Attribution first (one forward and one backward pass), then the sweep it estimates: at
      // once for a small model, on request for a large one (a GPT-2's sweep takes minutes).
      getSequencePatch(run, step, { prompt: a.prompt }, { ...a.patch, patching: false }).then(
        (p) => live && !patch.value?.patched && (patch.value = p),
        (e) => live && failed(e),
      );
    }
    return () => void (live = false);
  }, [run, step, a]);
  const sweeping = a !== null && !!a.patch.corrupt && (eager.value || sweepAsked.value);
  useEffect(() => {
    if (run === null || step === null || a === null || !sweeping) return;
    let live = true;
    getSequencePatch(run, step, { prompt: a.prompt }, a.patch).then(
      (p) => live && (patch.value = p),
      (e) => live && failed(e),
    );
    return () => void (live = false);
  }, [run, step, a, sweeping]);
  if (run === null || !textual.value) return null;
  const f = form.value;
  const set = (patchKey: keyof PatchOptions | "prompt") => (v: string) =>
    form.value = patchKey === "prompt"
      ? { ...f, prompt: v }
      : { ...f, patch: { ...f.patch, [patchKey]: v } };
  const r = report.value;
  return (
    <section class="analysis prompt-views" data-testid="prompt-views" data-step={step ?? ""}>
      <h2>prompts</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          pos.value = null;
          sweepAsked.value = false;
          asked.value = { prompt: f.prompt, patch: { ...f.patch } };
        }}
      >
        <Field id="text" label="prompt" value={f.prompt} set={set("prompt")} wide />
        <Field
          id="corrupt"
          label="corrupted prompt (as many tokens)"
          value={f.patch.corrupt ?? ""}
          set={set("corrupt")}
          wide
        />
        <Field id="answer" label="answer" value={f.patch.answer ?? ""} set={set("answer")} />
        <Field
          id="corrupt-answer"
          label="corrupted answer"
          value={f.patch.corrupt_answer ?? ""}
          set={set("corrupt_answer")}
        />
        <button type="submit" data-testid="prompt-submit">look at step {step}</button>
      </form>
      {problem.value !== "" && <p class="error" data-testid="prompt-error">{problem.value}</p>}
      {r !== null && (
        <div class="analysis-view" data-testid="prompt-report" data-step={r.step}>
          <SequenceDetail prefix="prompt" report={r} pos={pos} />
        </div>
      )}
      {patchProblem.value !== "" && (
        <p class="error" data-testid="prompt-patch-error">{patchProblem.value}</p>
      )}
      {patch.value !== null && (
        <PatchGrids
          prefix="prompt"
          patch={patch.value}
          {...(sweeping ? {} : { onSweep: () => void (sweepAsked.value = true) })}
        />
      )}
      {!detecting && (
        <p class="hint" data-testid="prompt-detectors-ask">
          <button
            type="button"
            data-testid="prompt-detectors-run"
            onClick={() => void (detectAsked.value = true)}
          >
            run the head detectors
          </button>{" "}
          (previous token, duplicate token, induction: a forward pass over a batch of repeated
          random tokens, a minute or more on a CPU at this size)
        </p>
      )}
      {detect.value !== null && (
        <div data-testid="prompt-detectors">
          <h3>
            head detectors (TransformerLens detect_head, {detect.value.batch} sequences of{" "}
            {detect.value.seq_len / 2} random tokens repeated)
          </h3>
          <Detectors prefix="prompt-detector" scores={detect.value} />
          <ColourLegend scale={SCORE} />
        </div>
      )}
    </section>
  );
}
