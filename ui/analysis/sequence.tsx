/// <reference lib="dom" />
/**
 * The sequence tasks' views at the slider's step: the loss at each position (with the two
 * positions of the in-context-learning score), every head's detector scores (a layer × head map
 * per detector, and the induction score of each head across the analysed checkpoints), and one
 * example looked at on demand: its attention patterns in the manner of CircuitsVis (a thumbnail
 * per head; the tokens coloured by the attention the hovered token pays them; values on hover;
 * masked cells blank), the logit lens and attribution at a chosen position, and patching beside
 * attribution patching (`sequence_detail.tsx`, `patch_grids.tsx`).
 *
 * @module
 */

import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { getSequence, getSequencePatch } from "../api.ts";
import { formatNumber } from "../runs_rows.ts";
import type { SequenceInspectReport, SequencePatchingReport } from "../types.ts";
import { colourAt, cssColour } from "./colour_scale.ts";
import { Detectors, SCORE } from "./detectors.tsx";
import { ColourLegend } from "./heatmap.tsx";
import { PatchGrids } from "./patch_grids.tsx";
import { SequenceDetail } from "./sequence_detail.tsx";
import { analysedRun, analysisIndex, pickedExample, shownStep, stepReport } from "./state.ts";

const [W, H] = [360, 140]; // the line charts' size in px

/** A polyline chart of `series` (each `[x, y | null][]`), y from 0; `marks` are vertical rules. */
function Lines(
  props: { testid: string; series: [number, number | null][][]; marks?: number[]; yLabel: string },
) {
  const points = props.series.flat().filter((p): p is [number, number] => p[1] !== null);
  if (points.length === 0) return <p class="hint">nothing scored</p>;
  const xs = points.map((p) => p[0]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  const y1 = Math.max(...points.map((p) => p[1]), 1e-9);
  const sx = (x: number) => 30 + (x - x0) / (x1 - x0) * (W - 40);
  const sy = (y: number) => H - 20 - y / y1 * (H - 30);
  return (
    <svg width={W} height={H} data-testid={props.testid} role="img" aria-label={props.yLabel}>
      <text x={2} y={10} font-size="10">{props.yLabel} (max {formatNumber(y1)})</text>
      {(props.marks ?? []).map((m) => (
        <line
          key={m}
          x1={sx(m)}
          x2={sx(m)}
          y1={10}
          y2={H - 20}
          stroke="#999"
          stroke-dasharray="3"
        />
      ))}
      {props.series.map((s, i) => (
        <polyline
          key={i}
          fill="none"
          stroke={cssColour(
            colourAt(SCORE, props.series.length === 1 ? 1 : i / (props.series.length - 1)),
          )}
          points={s.filter((p) => p[1] !== null).map(([x, y]) => `${sx(x)},${sy(y!)}`).join(" ")}
        />
      ))}
      <text x={30} y={H - 5} font-size="10">{x0}</text>
      <text x={W - 40} y={H - 5} font-size="10">{x1}</text>
    </svg>
  );
}

/** Loss per position at the slider's step, and the detectors. */
function Measures() {
  const seq = stepReport.value?.sequence;
  const index = analysisIndex.value;
  if (seq === undefined || index === null) return null;
  const icl = seq.icl;
  const L = seq.detectors.induction.length;
  const Hn = seq.detectors.induction[0]?.length ?? 0;
  // Each head's induction score across the analysed checkpoints: the induction bump.
  const across = Array.from(
    { length: L * Hn },
    (_, i) =>
      index.progress.map((p, s): [number, number | null] => [
        index.steps[s]!,
        p.head_scores?.induction.flat()[i] ?? null,
      ]),
  );
  return (
    <section class="analysis-view" data-testid="sequence-measures">
      <h3>
        loss per position ({seq.rows} {seq.split} examples) · in-context learning{" "}
        {icl === null ? "—" : `${formatNumber(icl.score)} (${icl.late} − ${icl.early})`}
      </h3>
      <Lines
        testid="sequence-loss"
        series={[seq.loss_per_position.map((l, t): [number, number | null] => [t, l])]}
        marks={icl === null ? [] : [icl.early, icl.late]}
        yLabel="loss"
      />
      <h3>head detectors (TransformerLens detect_head, {seq.detectors.seq_len} repeated tokens)</h3>
      <Detectors prefix="detector" scores={seq.detectors} />
      <Lines
        testid="sequence-induction-across"
        series={across}
        marks={[shownStep.value ?? 0]}
        yLabel="induction score per head, by step"
      />
      <ColourLegend scale={SCORE} />
    </section>
  );
}

/** The picked example on demand: its detail at a position, and patching with attribution. */
function Example() {
  const run = analysedRun.value;
  const step = shownStep.value;
  const example = pickedExample.value ?? 0;
  const pos = useSignal<number | null>(null);
  const report = useSignal<SequenceInspectReport | null>(null);
  const patch = useSignal<SequencePatchingReport | null>(null);
  const problem = useSignal("");
  useEffect(() => {
    if (run === null || step === null) return;
    let live = true;
    getSequence(run, step, { example }, pos.value).then(
      (r) => live && (report.value = r, problem.value = ""),
      (e) => live && (problem.value = String(e?.message ?? e)),
    );
    getSequencePatch(run, step, { example }).then(
      (r) => live && (patch.value = r),
      () => live && (patch.value = null),
    );
    return () => void (live = false);
  }, [run, step, example, pos.value]);
  const r = report.value;
  if (r === null) {
    return <p class="hint" data-testid="sequence-problem">{problem.value || "loading…"}</p>;
  }
  return (
    <section class="analysis-view" data-testid="sequence-example" data-example={r.example ?? ""}>
      <h3>example #{r.example} at step {r.step}</h3>
      <SequenceDetail prefix="sequence" report={r} pos={pos} />
      {patch.value !== null && <PatchGrids prefix="sequence" patch={patch.value} />}
    </section>
  );
}

/**
 * The sequence views, shown for a run whose report has a `sequence` part.
 *
 * @example
 * ```tsx
 * import { SequenceViews } from "./sequence.tsx";
 * const view = <SequenceViews />;
 * ```
 */
export function SequenceViews() {
  if (stepReport.value?.sequence === undefined) return null;
  return (
    <>
      <Measures />
      <Example />
    </>
  );
}
