// The sequence views in a real browser (Debian's Chromium, driven by playwright-core), on an
// `induction` run trained and analysed here with the CLI: the loss per position draws a point per
// scored position of the step's report; each detector's layer × head map colours every head by
// its score in the report; the picked example shows its tokens, a thumbnail per head, and, on a
// hovered token, the earlier tokens coloured by the attention the chosen head pays them (the
// server's pattern, masked positions blank); the checkpoint slider moves the views to another
// step. Screenshots go to tests/ui/screenshots/ for a person to look at.
import * as assert from "node:assert/strict";
import type { AnalysisIndex, CheckpointReport } from "../../engine/analysis/report.ts";
import { attr, browserTest, cellColours, SHOTS } from "./browser.ts";
import { colourAt, cssColour, sequentialScale } from "../../ui/analysis/colour_scale.ts";
import { mechlab } from "../helpers.ts";

/** The views' scales, as `ui/analysis/sequence.tsx` draws them. */
const SCORE = sequentialScale("detector score", [], { min: 0, max: 1 });
const ATTENTION = sequentialScale("attention (row: query, column: key)", [], { min: 0, max: 1 });

/** Trains the `induction` preset briefly on the CPU (checkpoints at 0, 40, 80) and analyses it. */
async function analysedRun(runs: string): Promise<AnalysisIndex> {
  const train = await mechlab(
    "train",
    "--preset=induction",
    "--device=cpu",
    "--steps=80",
    "--checkpoint-every=40",
    "--eval-every=40",
    "--n-seqs=400",
    `--out=${runs}`,
    "--name=r",
  );
  assert.equal(train.code, 0, train.err);
  const analyze = await mechlab("analyze", `--run=${runs}/r`);
  assert.equal(analyze.code, 0, analyze.err);
  return JSON.parse(await Deno.readTextFile(`${runs}/r/analysis/index.json`));
}

browserTest(
  "sequence views: loss per position, head detectors, attention over tokens, the slider",
  { setup: analysedRun },
  async ({ page, prepared: index }) => {
    assert.deepEqual(index.steps, [0, 40, 80]);
    await page.getByTestId("run-check-r").check();
    await page.getByTestId("sequence-measures").waitFor();
    assert.equal(await attr(page, "analysis-step", "data-step"), "80");
    const report: CheckpointReport = await page.evaluate(() =>
      fetch("/api/runs/r/analysis?step=80").then((r) => r.json())
    );
    const seq = report.sequence!;

    // Loss per position: one polyline with a point per scored position.
    const scored = seq.loss_per_position.filter((l) => l !== null).length;
    assert.ok(scored > 0);
    const points = await page.getByTestId("sequence-loss").locator("polyline").getAttribute(
      "points",
    );
    assert.equal(points!.trim().split(" ").length, scored);

    // Each detector: an L × H map whose cells are the report's scores in the score colours.
    for (const kind of ["previous_token", "duplicate_token", "induction"] as const) {
      const scores = seq.detectors[kind];
      const testid = `detector-${kind}`;
      assert.deepEqual(
        [await attr(page, testid, "data-rows"), await attr(page, testid, "data-cols")],
        [String(index.n_layers), String(scores[0]!.length)],
      );
      assert.deepEqual(
        await cellColours(page, testid),
        scores.flat().map((s) => colourAt(SCORE, s)),
        kind,
      );
    }
    // The induction score of every head across the analysed checkpoints: a line per head.
    const heads = seq.detectors.induction.flat().length;
    assert.equal(
      await page.getByTestId("sequence-induction-across").locator("polyline").count(),
      heads,
    );

    // The picked example: its tokens, and a T × T thumbnail per head.
    await page.getByTestId("sequence-example").waitFor();
    const picked = await attr(page, "sequence-example", "data-example");
    const example = await page.evaluate(
      (i) => fetch(`/api/runs/r/sequence?step=80&example=${i}`).then((r) => r.json()),
      picked,
    );
    const T = example.tokens.length;
    assert.deepEqual(
      await page.locator('[data-testid^="sequence-token-"]').allInnerTexts(),
      example.tokens,
    );
    for (let l = 0; l < index.n_layers; l++) {
      for (let h = 0; h < example.patterns[l].length; h++) {
        assert.equal(await attr(page, `sequence-head-${l}-${h}`, "data-rows"), String(T));
      }
    }
    // Hovering token q colours every key k ≤ q by the chosen head's (L0H0) attention q → k and
    // leaves the later ones blank: the causal mask.
    const q = Math.floor(T / 2);
    await page.getByTestId(`sequence-token-${q}`).hover();
    const styles = await page.locator('[data-testid^="sequence-token-"]').evaluateAll((els) =>
      els.map((e) => e.getAttribute("style") ?? "")
    );
    styles.forEach((style, k) => {
      const bg = style.match(/rgb\(\d+, \d+, \d+\)/)?.[0] ?? "";
      const want = k > q ? "" : cssColour(colourAt(ATTENTION, example.patterns[0][0][q][k]));
      assert.equal(bg, want, `token ${k}`);
    });
    await page.getByTestId("sequence-example").screenshot({ path: `${SHOTS}sequence_example.png` });
    await page.getByTestId("sequence-measures").screenshot({
      path: `${SHOTS}sequence_measures.png`,
    });

    // The slider to step 40: the example and the measures follow.
    await page.getByTestId("checkpoint-slider").fill("1");
    await page.getByText(`example #${picked} at step 40`).waitFor();
    assert.equal(await attr(page, "analysis-step", "data-step"), "40");
    const at40: CheckpointReport = await page.evaluate(() =>
      fetch("/api/runs/r/analysis?step=40").then((r) => r.json())
    );
    assert.deepEqual(
      await cellColours(page, "detector-induction"),
      at40.sequence!.detectors.induction.flat().map((s) => colourAt(SCORE, s)),
    );
  },
);
