// The analysis panel in a real browser (Debian's Chromium, driven by playwright-core) on an
// imported GPT-2 that `mechlab analyze` has analysed: a tiny random one with GPT-2's vocabulary
// (tests/runs/hf_gpt2.ts), imported and analysed with the CLI. Where an imported run without an
// analysis shows a hint (e2e_gpt2_prompt.test.ts), this one shows the sequence views of its one
// checkpoint: the loss per position with a point per scored position of the report (30 of the
// repeated tokens' 31), and each detector's layer × head map in the report's scores' colours.
import * as assert from "node:assert/strict";
import type { CheckpointReport } from "../../engine/analysis/report.ts";
import { attr, browserTest, cellColours } from "./browser.ts";
import { colourAt, sequentialScale } from "../../ui/analysis/colour_scale.ts";
import { mechlab } from "../helpers.ts";
import { importTinyGpt2, TINY_GPT2 } from "../runs/hf_gpt2.ts";

const SCORE = sequentialScale("detector score", [], { min: 0, max: 1 });

/** The tiny GPT-2 imported as runs/tinygpt2 and analysed. */
async function analysedImport(runs: string): Promise<void> {
  const run = await importTinyGpt2(runs);
  const analyze = await mechlab("analyze", "--run", run, "--device", "cpu");
  assert.equal(analyze.code, 0, analyze.err);
}

browserTest(
  "analysis panel on an analysed imported GPT-2: loss per position and head detectors",
  { setup: analysedImport },
  async ({ page }) => {
    await page.getByTestId("run-check-tinygpt2").check();
    await page.getByTestId("sequence-measures").waitFor();
    assert.equal(await page.getByTestId("analysis-imported").count(), 0);
    assert.equal(await attr(page, "analysis-step", "data-step"), "0");
    const report: CheckpointReport = await page.evaluate(() =>
      fetch("/api/runs/tinygpt2/analysis?step=0").then((r) => r.json())
    );
    const seq = report.sequence!;
    assert.equal(seq.loss_per_position.filter((l) => l !== null).length, 30);
    const points = await page.getByTestId("sequence-loss").locator("polyline").getAttribute(
      "points",
    );
    assert.equal(points!.trim().split(" ").length, 30);
    for (const kind of ["previous_token", "duplicate_token", "induction"] as const) {
      const testid = `detector-${kind}`;
      assert.deepEqual(
        [await attr(page, testid, "data-rows"), await attr(page, testid, "data-cols")],
        [String(TINY_GPT2.n_layer), String(TINY_GPT2.n_head)],
      );
      assert.deepEqual(
        await cellColours(page, testid),
        seq.detectors[kind].flat().map((s) => colourAt(SCORE, s)),
        kind,
      );
    }
  },
);
