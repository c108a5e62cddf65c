/// <reference lib="dom" />
/**
 * Every example of the run as a grid, coloured by split or by its loss at the shown step: the
 * (x, y) table of a `modular` run; for `oocl`, table 1, table 2 over the aliases (a cell's twin sits
 * at the same place) and the links. Hover says what a cell is (for `oocl`, with its alias); a click
 * picks the example the inspect views look at (outlined red), a shift-click the one its patching
 * runs into (outlined black).
 *
 * @module
 */

import { batch, type Signal, useSignal } from "@preact/signals";
import { categoricalScale, sequentialScale } from "./colour_scale.ts";
import { describeExample, exampleTables, viewClass } from "./grid.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";
import { analysisIndex, inspectReport, pickedExample, pickedPartner, stepReport } from "./state.ts";
import { formatNumber } from "../runs_rows.ts";

// Only this reads the hovered cell, so a mouse move redraws one line, not the p² cells.
function Hovered(
  props: { hovered: Signal<number | null>; picked: number | null; describe: (i: number) => string },
) {
  const shown = props.hovered.value ?? props.picked;
  return <>{shown === null ? "hover a cell" : props.describe(shown)}</>;
}

/** A click picks the example to inspect (patched into the default partner); a shift-click its partner. */
function pickCell(example: number, partner: boolean): void {
  batch(() => {
    if (partner) return void (pickedPartner.value = example);
    pickedExample.value = example;
    pickedPartner.value = null;
  });
}

/**
 * The example grid(s) of the focused run.
 *
 * @example
 * ```tsx
 * import { ExampleGrid } from "./example_grid.tsx";
 * const view = <ExampleGrid />;
 * ```
 */
export function ExampleGrid() {
  const colour = useSignal<"split" | "loss">("split");
  const hovered = useSignal<number | null>(null);
  const index = analysisIndex.value;
  if (index === null) return null;
  const loss = stepReport.value?.example_loss;
  const byLoss = colour.value === "loss" && loss !== undefined;
  const scale = byLoss
    ? sequentialScale(`loss at step ${stepReport.value?.step}`, loss, { log: true })
    : categoricalScale("split", ["train", "test"], "in no split");
  const tables = exampleTables(index);
  const picked = pickedExample.value;
  // The example patching runs into, outlined black: the picked one's report, once it came.
  const report = inspectReport.value;
  const partner = report?.example === picked ? report?.patching.corrupt_example : undefined;
  const describe = (i: number) =>
    `${describeExample(index, i)}${
      loss?.[i] === undefined ? "" : ` · loss ${formatNumber(loss[i]!)}`
    }`;
  return (
    <section class={viewClass(index.p)} data-testid="example-grid">
      <h3>examples</h3>
      <div class="toggle" role="group" aria-label="colour the examples by">
        {(["split", "loss"] as const).map((c) => (
          <button
            type="button"
            key={c}
            data-testid={`example-colour-${c}`}
            class={colour.value === c ? "chosen" : ""}
            onClick={() => colour.value = c}
          >
            {c}
          </button>
        ))}
      </div>
      <div class="tables">
        {tables.map((t) => {
          const at = picked === null ? -1 : t.examples.indexOf(picked);
          const into = partner === undefined ? -1 : t.examples.indexOf(partner);
          return (
            <figure key={t.name}>
              <figcaption>{t.name} · rows {t.rowAxis}, columns {t.colAxis}</figcaption>
              <Heatmap
                testid={`example-table-${t.name}`}
                rows={t.rows}
                cols={t.cols}
                maxCell={Math.min(24, Math.max(8, Math.floor(800 / index.p)))}
                rowTitle={t.rowAxis}
                colTitle={t.colAxis}
                describe={([r, c]) => describe(t.examples[r * t.cols + c]!)}
                values={t.examples.map((i) => byLoss ? loss[i] ?? NaN : index.split[i] ?? -1)}
                scale={scale}
                highlight={at < 0 ? undefined : { row: Math.floor(at / t.cols), col: at % t.cols }}
                mark={into < 0 ? undefined : [Math.floor(into / t.cols), into % t.cols]}
                onHover={(rc) =>
                  hovered.value = rc === null ? null : t.examples[rc[0] * t.cols + rc[1]]!}
                onPick={([r, c], e) => pickCell(t.examples[r * t.cols + c]!, e.shiftKey)}
              />
            </figure>
          );
        })}
      </div>
      <ColourLegend scale={scale} />
      <p data-testid="example-readout" class="readout">
        <Hovered hovered={hovered} picked={picked} describe={describe} />
      </p>
      <p data-testid="picked-example" data-example={picked ?? ""}>
        picked: {picked === null ? "none (click a cell)" : describe(picked)}
      </p>
    </section>
  );
}
