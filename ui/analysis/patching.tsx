/// <reference lib="dom" />
/**
 * Activation patching of the picked (clean) example into another input with another answer (the
 * server's default, which differs in every input token it can, or one typed or shift-clicked on
 * the examples grid, checked by the server's rule before it is asked for): the metric after patching each activation, 0 = the corrupt run's, 1 = the clean run's. Three
 * heatmaps on one diverging scale centred at 0: the residual stream by layer and position, each
 * head's output, each MLP's output by position.
 *
 * @module
 */

import { divergingScale } from "./colour_scale.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";
import { useSignal } from "@preact/signals";
import { partnerProblem } from "../../engine/analysis/partner.ts";
import { describeExample } from "./grid.ts";
import { analysisIndex, inspectReport, pickedPartner } from "./state.ts";

/**
 * The patching heatmaps.
 *
 * @example
 * ```tsx
 * import { Patching } from "./patching.tsx";
 * const view = <Patching />;
 * ```
 */
export function Patching() {
  // The refusal of a typed partner, for the report it was typed over (another pick hides it).
  const problem = useSignal({ text: "", over: "" });
  const report = inspectReport.value;
  const index = analysisIndex.value;
  if (report === null || index === null) return null;
  // A typed partner is checked here by the server's rule: a refused one must not blank the views.
  const shown = `${report.example}→${report.patching.corrupt_example}`;
  const choose = (text: string) => {
    const partner = Number(text);
    const refused = partnerProblem(index.targets, report.example, partner);
    problem.value = { text: refused ?? "", over: shown };
    if (refused === null) pickedPartner.value = partner;
  };
  const { metric, corrupt_example } = report.patching;
  // null: the scale is undefined (the two runs score alike), drawn as missing data.
  const [resid_pre, head_out, mlp_out] = [
    report.patching.resid_pre,
    report.patching.head_out,
    report.patching.mlp_out,
  ].map((rows) => rows.map((row) => row.map((v) => v ?? NaN))) as [
    number[][],
    number[][],
    number[][],
  ];
  const all = [resid_pre, head_out, mlp_out].flat(2);
  const scale = divergingScale(metric, all, { atLeast: 1 });
  const layers = resid_pre.map((_, l) => `L${l}`);
  const maps = [
    {
      name: "resid_pre",
      what: "blocks.L.hook_resid_pre by position",
      colTitle: "position",
      rows: resid_pre,
      cols: report.tokens,
    },
    {
      name: "head_out",
      what: "each head's output (all positions)",
      colTitle: "head",
      rows: head_out,
      cols: (head_out[0] ?? []).map((_, h) => `H${h}`),
    },
    {
      name: "mlp_out",
      what: "blocks.L.hook_mlp_out by position",
      colTitle: "position",
      rows: mlp_out,
      cols: report.tokens,
    },
  ].filter((m) => m.rows.some((r) => r.length > 0)); // attention-only models have no MLP rows
  return (
    <section class="analysis-view" data-testid="patching">
      <h3>
        activation patching · clean #{report.example} into corrupt #{corrupt_example}{" "}
        (0 = corrupt, 1 = clean)
      </h3>
      <p class="hint" data-testid="patching-partner-line">
        corrupt: {describeExample(index, corrupt_example)}
      </p>
      <p class="hint">
        <label>
          patch into example{" "}
          <input
            type="number"
            data-testid="patching-partner"
            min={0}
            max={index.targets.length - 1}
            value={corrupt_example}
            onChange={(e) => choose(e.currentTarget.value)}
          />
        </label>{" "}
        or shift-click a cell of the examples;{" "}
        <button
          type="button"
          data-testid="patching-partner-default"
          disabled={pickedPartner.value === null}
          onClick={() => pickedPartner.value = null}
        >
          default
        </button>{" "}
        <span class="error" data-testid="patching-partner-problem">
          {problem.value.over === shown ? problem.value.text : ""}
        </span>
      </p>
      <div class="patching">
        {maps.map((m) => (
          <figure key={m.name}>
            <figcaption>{m.what}</figcaption>
            <Heatmap
              testid={`patching-${m.name}`}
              rows={m.rows.length}
              cols={m.cols.length}
              maxCell={36}
              values={m.rows.flat()}
              scale={scale}
              rowLabels={layers}
              colLabels={m.cols}
              rowTitle="layer"
              colTitle={m.colTitle}
            />
          </figure>
        ))}
      </div>
      <ColourLegend scale={scale} />
    </section>
  );
}
