/// <reference lib="dom" />
/**
 * The analysis section of the page: the focused run's analysis at the slider's step, every view
 * that applies to its task, or the line that says why there is none (a run never analysed: the
 * command to run, "look again", and a button that runs it on the server; an imported model, which
 * has only its prompt views). Its head stays in view with a slider over the analysed
 * steps, so the views can be scrubbed where they are.
 *
 * @module
 */

import { checkpointStep, focusedRun, runs } from "../state.ts";
import { Aliases } from "./aliases.tsx";
import { AnalyzeButton, AnalyzeStatus } from "./analyze_button.tsx";
import { Attention } from "./attention.tsx";
import { Circles } from "./circles.tsx";
import { Clusters } from "./clusters.tsx";
import { Dla } from "./dla.tsx";
import { EmbeddingPca } from "./embedding_pca.tsx";
import { ExampleGrid } from "./example_grid.tsx";
import { Fourier } from "./fourier.tsx";
import { HeadCircuits } from "./head_circuits.tsx";
import { LogitLens } from "./logit_lens.tsx";
import { Neurons } from "./neurons.tsx";
import { Patching } from "./patching.tsx";
import { Progress } from "./progress.tsx";
import { TokenMaps } from "./token_maps.tsx";
import { SequenceViews } from "./sequence.tsx";
import {
  analysisIndex,
  analysisProblem,
  inspecting,
  inspectProblem,
  reloadAnalysis,
  shownStep,
  stepProblem,
} from "./state.ts";

/** The sequence tasks (engine/analysis/sequence_report.ts' list, not imported: the bundle holds no engine). */
const SEQUENCE: readonly string[] = ["induction", "brackets", "strings", "text", "pretrained"];

function Status() {
  const lines = [
    stepProblem.value,
    inspectProblem.value,
    inspecting.value ? "inspecting the picked example…" : "",
  ].filter((l) => l !== "");
  return (
    <span class="hint" data-testid="analysis-status" data-inspecting={inspecting.value}>
      {lines.join(" · ")}
    </span>
  );
}

/**
 * The analysis views of the run checked last.
 *
 * @example
 * ```tsx
 * import { Analysis } from "./panel.tsx";
 * const view = <Analysis />;
 * ```
 */
export function Analysis() {
  const run = focusedRun.value;
  const index = analysisIndex.value;
  const body = () => {
    if (run === null) return <p class="hint">check a run to see its analysis</p>;
    const imported = runs.value.find((r) => r.name === run)?.imported;
    // No training, so no metrics, split or checkpoints over time: only what `mechlab analyze`
    // wrote of its repeated random tokens, if it ran.
    if (imported !== undefined && index === null) {
      return (
        <p class="hint" data-testid="analysis-imported">
          {run} is imported from{" "}
          {imported.source}: it never trained here, so there are no curves; look inside it with the
          prompts below (the head detectors on repeated random tokens included), or run{" "}
          <code>mechlab analyze --run runs/{run}</code>{" "}
          for its loss per position and head detectors on repeated random tokens.
        </p>
      );
    }
    if (index === null) {
      return (
        <p class="hint" data-testid="analysis-problem">
          {analysisProblem.value || "loading…"}{" "}
          <button type="button" data-testid="analysis-reload" onClick={() => void reloadAnalysis()}>
            look again
          </button>{" "}
          {analysisProblem.value !== "" && <AnalyzeButton run={run} />}
        </p>
      );
    }
    return (
      <>
        <div class="analysis-head">
          <span data-testid="analysis-step" data-step={shownStep.value ?? ""}>
            {run} ({index.task}, p = {index.p}): step <strong>{shownStep.value}</strong>
          </span>
          {/* The analysed steps only; it moves the checkpoint slider, which the views follow. */}
          <input
            type="range"
            data-testid="analysis-slider"
            aria-label={`analysed step of ${run}`}
            min={0}
            max={index.steps.length - 1}
            step={1}
            value={Math.max(0, index.steps.indexOf(shownStep.value ?? -1))}
            onInput={(e) =>
              checkpointStep.value = index.steps[Number(e.currentTarget.value)] ?? null}
          />
          <span class="hint">{index.steps.length} analysed checkpoints</span>
          <Status />
          <AnalyzeStatus run={run} />
        </div>
        <Progress />
        {SEQUENCE.includes(index.task) && (
          <div class="analysis-grid">
            <SequenceViews />
            <HeadCircuits />
            <EmbeddingPca />
          </div>
        )}
        {!SEQUENCE.includes(index.task) && (
          <div class="analysis-grid">
            <ExampleGrid />
            <Attention />
            <Dla />
            <LogitLens />
            <Patching />
            <HeadCircuits />
            <EmbeddingPca />
            {index.task === "oocl" && <Aliases />}
            {index.task === "modular" && (
              <>
                <Fourier />
                <Clusters />
                <Circles />
                <Neurons />
                <TokenMaps />
              </>
            )}
          </div>
        )}
      </>
    );
  };
  return (
    <section class="analysis" data-testid="analysis">
      <h2>analysis</h2>
      {body()}
    </section>
  );
}
