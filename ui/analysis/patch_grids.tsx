/// <reference lib="dom" />
/**
 * Activation patching of a clean sequence into a corrupted one (`SequencePatchingReport`), each
 * grid beside attribution patching's estimate of the same patches on the same scale (restored
 * fraction: 0 = the corrupted run, 1 = the clean), with the correlation of the two: the residual
 * stream by layer × position, and each head's output. A report of attribution alone
 * (`patched: false`) shows the estimates, and says the patches are on their way, or, given
 * `onSweep` (a large model), offers a button that asks for them. Test ids start with `prefix`.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import type { SequencePatchingReport } from "../types.ts";
import { divergingScale } from "./colour_scale.ts";
import { ColourLegend, Heatmap } from "./heatmap.tsx";

const RESTORED = divergingScale("restored fraction (1 = clean)", [], { atLeast: 1 });

/** A `[rows][cols]` grid of restored fractions (`null` blank). */
function Grid(
  props: {
    testid: string;
    values: (number | null)[][];
    colLabels?: string[];
    rowTitle: string;
    colTitle: string;
    what: string;
    /** The largest cell, px: default what fits 240 px. */
    maxCell?: number;
  },
) {
  const { values } = props;
  const cols = values[0]?.length ?? 0;
  return (
    <figure>
      <Heatmap
        testid={props.testid}
        rows={values.length}
        cols={cols}
        maxCell={props.maxCell ?? Math.max(4, Math.floor(240 / Math.max(cols, 1)))}
        values={values.flat().map((v) => v ?? NaN)}
        scale={RESTORED}
        colLabels={props.colLabels}
        rowTitle={props.rowTitle}
        colTitle={props.colTitle}
        describe={([r, c]) => {
          const at = props.colLabels ? `${props.colLabels[c]}@${c}` : `${props.colTitle} ${c}`;
          return `${props.what} L${r} ${at}: ${formatNumber(values[r]?.[c] ?? NaN)}`;
        }}
      />
      <figcaption>{props.what}</figcaption>
    </figure>
  );
}

/** "r = 0.97", or why there is none. */
function correlation(r: number | null): string {
  return r === null ? "r undefined (a constant sweep)" : `r = ${formatNumber(r)}`;
}

/**
 * How many forward passes the sweep runs at most: one per residual-stream cell, per MLP output
 * cell (as many; none in an attention-only model) and per head, and the unpatched run.
 */
function passes(p: SequencePatchingReport): number {
  return 2 * p.attribution.resid_pre.flat().length + p.attribution.head_out.flat().length + 1;
}

/**
 * The patching grids with attribution beside them.
 *
 * @example
 * ```tsx
 * import { PatchGrids } from "./patch_grids.tsx";
 * import type { SequencePatchingReport } from "../types.ts";
 * const view = (p: SequencePatchingReport) => <PatchGrids prefix="prompt" patch={p} />;
 * ```
 */
export function PatchGrids(
  props: { prefix: string; patch: SequencePatchingReport; onSweep?: () => void },
) {
  const { prefix, patch: p, onSweep } = props;
  const { correlation: rho } = p.attribution;
  return (
    <div data-testid={`${prefix}-patching`}>
      <p class="hint">
        patching “{p.clean.join("")}” into “{p.corrupt.join("")}” · metric: logit “
        {p.answer_texts[0]}” − logit “{p.answer_texts[1]}” at the end (clean{" "}
        {formatNumber(p.clean_value)}, corrupted {formatNumber(p.corrupt_value)}) · {p.metric}
      </p>
      {p.patched
        ? (
          <p class="hint" data-testid={`${prefix}-correlation`}>
            attribution patching against patching: residual stream{" "}
            <span data-testid={`${prefix}-correlation-resid`}>
              {correlation(rho.resid_pre)}
            </span>, heads{" "}
            <span data-testid={`${prefix}-correlation-heads`}>{correlation(rho.head_out)}</span>
          </p>
        )
        : onSweep === undefined
        ? (
          <p class="hint" data-testid={`${prefix}-patching-pending`}>
            attribution patching (one forward and one backward pass); patching each activation…
          </p>
        )
        : (
          <p class="hint" data-testid={`${prefix}-patching-ask`}>
            attribution patching (one forward and one backward pass).{" "}
            <button type="button" data-testid={`${prefix}-patching-run`} onClick={onSweep}>
              patch each activation (up to {passes(p)} forward passes)
            </button>
          </p>
        )}
      <div class="pair">
        {p.patched && (
          <Grid
            testid={`${prefix}-patch-resid`}
            values={p.resid_pre}
            colLabels={p.clean}
            rowTitle="resid_pre layer"
            colTitle="position"
            what="patching resid_pre"
          />
        )}
        <Grid
          testid={`${prefix}-attr-resid`}
          values={p.attribution.resid_pre}
          colLabels={p.clean}
          rowTitle="resid_pre layer"
          colTitle="position"
          what="attribution resid_pre"
        />
      </div>
      <div class="pair">
        {p.patched && (
          <Grid
            testid={`${prefix}-patch-heads`}
            values={p.head_out}
            rowTitle="layer"
            colTitle="head"
            what="patching head output"
            maxCell={24}
          />
        )}
        <Grid
          testid={`${prefix}-attr-heads`}
          values={p.attribution.head_out}
          rowTitle="layer"
          colTitle="head"
          what="attribution head output"
          maxCell={24}
        />
      </div>
      <ColourLegend scale={RESTORED} />
    </div>
  );
}
