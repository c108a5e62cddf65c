// The analysis views at the paper's p = 113 (a tiny model trained 2 steps, so the test is quick)
// in a real browser, at 1280 and 800 px: every bar chart and heatmap lies within its panel and the
// page never scrolls sideways; a heatmap's hover says the value of the cell under the pointer (as
// the inspect JSON has it); a causal pattern's masked cells are left blank; the patching partner
// can be typed or shift-clicked and the report follows. Screenshots go to tests/ui/screenshots/.
import * as assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { attr, browserTest, cellCentre, SHOTS, until } from "./browser.ts";
import { mechlab } from "../helpers.ts";

const P = 113;

async function tinyRun(runs: string): Promise<void> {
  const train = await mechlab(
    "train",
    "--preset=smoke",
    `--p=${P}`,
    "--steps=2",
    "--checkpoint-every=2",
    "--eval-every=2",
    "--d-model=16",
    "--n-heads=2",
    "--d-head=8",
    "--d-mlp=32",
    "--device=cpu",
    `--out=${runs}`,
    "--name=a_run_whose_name_is_long_enough_to_push_the_table_past_an_800_px_window",
  );
  assert.equal(train.code, 0, train.err);
  const analyze = await mechlab("analyze", `--run=${runs}/${RUN}`);
  assert.equal(analyze.code, 0, analyze.err);
}
const RUN = "a_run_whose_name_is_long_enough_to_push_the_table_past_an_800_px_window";

/** Every chart's box against its view's (a `section.analysis-view`): right edges within. */
async function overflowing(page: Page): Promise<string[]> {
  return await page.evaluate(`(() => {
    const out = [];
    for (const chart of document.querySelectorAll(".analysis-view canvas, .analysis-view svg.bars")) {
      const view = chart.closest(".analysis-view");
      const [c, v] = [chart.getBoundingClientRect(), view.getBoundingClientRect()];
      if (c.right > v.right + 0.5 || c.left < v.left - 0.5) {
        out.push(chart.dataset.testid + " " + c.left + ".." + c.right + " in " + v.left + ".." + v.right);
      }
    }
    const page = document.documentElement;
    if (page.scrollWidth > page.clientWidth) out.push("page " + page.scrollWidth + " > " + page.clientWidth);
    return out;
  })()`) as string[];
}

browserTest(
  "analysis views at p = 113: charts fit at 1280 and 800 px, hover values, masked cells, patching partner",
  { setup: tinyRun, viewport: { width: 1280, height: 900 } },
  async ({ page }) => {
    // The newest (only) run is checked on the first screen: its curves and views show unasked.
    assert.equal(await page.getByTestId(`run-check-${RUN}`).isChecked(), true);
    await page.getByTestId("patching").waitFor();
    await page.getByTestId("fourier").waitFor();
    // The default example: the first held-out (x, y) with x, y non-zero and different.
    const index = await page.evaluate(
      `fetch("/api/runs/${RUN}/analysis").then((r) => r.json())`,
    ) as {
      split: number[];
    };
    const example = index.split.findIndex((s, i) =>
      s === 1 && Math.floor(i / P) !== 0 && i % P !== 0 && Math.floor(i / P) !== i % P
    );
    await page.locator(`[data-testid="picked-example"][data-example="${example}"]`).waitFor();

    for (const width of [1280, 800]) {
      await page.setViewportSize({ width, height: 900 });
      await until(
        `charts within their views at ${width} px`,
        async () => (await overflowing(page)).length === 0,
        10_000,
      ).catch(async (e) => {
        throw new Error(`${e.message}: ${(await overflowing(page)).join("; ")}`);
      });
      // Every frequency 0..56 has its bar, inside the panel (checked above).
      assert.equal(await attr(page, "fourier-bars", "data-bars"), String((P - 1) / 2 + 1));
      // Its axes: round y ticks from 0, both titles, and the last frequency labelled.
      const bars = page.getByTestId("fourier-bars");
      const yTicks = await bars.locator("g.y-tick text").allTextContents();
      assert.ok(yTicks.length >= 2 && yTicks[0] === "0", yTicks.join());
      assert.deepEqual(await bars.locator("text.axis-title").allTextContents(), [
        "‖W_E‖ per frequency",
        "frequency k (const: the constant)",
      ]);
      assert.equal(await bars.locator("text.label").last().textContent(), "56");
      // The example grid's axes run 0 … p − 1.
      const ticks = await page.getByTestId("example-grid").locator("text.col-tick")
        .allTextContents();
      assert.equal(ticks[0], "0");
      assert.equal(ticks.at(-1), String(P - 1));
      await page.screenshot({ path: `${SHOTS}fit_p113_${width}.png`, fullPage: true });
    }
    // A view scrolled to (a link, find in page) shows its title below the sticky step bar.
    const below = await page.evaluate(`(() => {
      const view = document.querySelector('[data-testid="neurons"]');
      view.scrollIntoView();
      const bar = document.querySelector(".analysis-head").getBoundingClientRect();
      return view.querySelector("h3").getBoundingClientRect().top - bar.bottom;
    })()`) as number;
    assert.ok(below >= 0, `the title is ${-below} px under the step bar`);
    await page.setViewportSize({ width: 1280, height: 900 });

    const step = Number(await attr(page, "analysis-step", "data-step"));
    const inspect = async (partner = "") =>
      await page.evaluate(
        `fetch("/api/runs/${RUN}/inspect?step=${step}&example=${example}${partner}").then((r) => r.json())`,
      ) as {
        patterns: number[][][][];
        patching: { corrupt_example: number; resid_pre: (number | null)[][] };
      };
    const report = await inspect();

    // Hover on the focused pattern's (query 2, key 1) says its weight; (0, 2) is masked, blank.
    const focus = "attention-focus-map";
    await page.getByTestId(focus).hover({ position: await cellCentre(page, focus, [2, 1]) });
    const tip = page.getByTestId(`${focus}-tip`);
    await tip.waitFor();
    assert.equal(Number(await tip.getAttribute("data-value")), report.patterns[0]![0]![2]![1]);
    assert.match(await tip.innerText(), /^query = \(position 2\) → key \S+ \(position 1\): /);
    await page.getByTestId(focus).hover({ position: await cellCentre(page, focus, [0, 2]) });
    await until("the masked cell's tip", async () => (await tip.getAttribute("data-col")) === "2");
    assert.match(await tip.innerText(), /masked/);
    const alpha = await page.evaluate(`(() => {
      const canvas = document.querySelector('[data-testid="${focus}"]');
      const dpr = canvas.width / canvas.clientWidth;
      const [cell, rowH] = [Number(canvas.dataset.cell) * dpr, Number(canvas.dataset.cellHeight) * dpr];
      const at = (r, c) => canvas.getContext("2d")
        .getImageData(Math.floor((c + 0.5) * cell), Math.floor((r + 0.5) * rowH), 1, 1).data[3];
      return [at(0, 1), at(0, 2), at(1, 2), at(2, 0)];
    })()`);
    assert.deepEqual(alpha, [0, 0, 0, 255]); // above the diagonal blank; below drawn

    // Hover on a neuron's (x, y) says its activation as the step report has it.
    const stepReport = await page.evaluate(
      `fetch("/api/runs/${RUN}/analysis?step=${step}").then((r) => r.json())`,
    ) as { modular: { neurons: { neuron: number; acts: number[] }[] } };
    const neuron = stepReport.modular.neurons[0]!;
    const map = `neuron-${neuron.neuron}`;
    await page.getByTestId(map).hover({ position: await cellCentre(page, map, [40, 41]) });
    const neuronTip = page.getByTestId(`${map}-tip`);
    await neuronTip.waitFor();
    assert.equal(Number(await neuronTip.getAttribute("data-value")), neuron.acts[40 * P + 41]);
    assert.match(await neuronTip.innerText(), /^x 40, y 41: /);
    // A click shows the neuron across the row: its cells (2 px in a quarter of it) grow.
    const small = Number(await attr(page, map, "data-cell"));
    await page.getByTestId(`neuron-figure-${neuron.neuron}`).locator("figcaption").click();
    await until(
      "the neuron enlarged",
      async () => Number(await attr(page, map, "data-cell")) > 3 * small,
    );
    assert.deepEqual(await overflowing(page), []);

    // Patching: by default into a partner differing in x and y, so patching x is not trivially 0.
    const partner = report.patching.corrupt_example;
    assert.notEqual(Math.floor(partner / P), Math.floor(example / P));
    assert.notEqual(partner % P, example % P);
    assert.equal(Number(await page.getByTestId("patching-partner").inputValue()), partner);
    // Typed: (x, y + 1), one token apart, when its answer differs; the page asks and shows it.
    const typed = Math.floor(example / P) * P + (example % P + 1) % P;
    await page.getByTestId("patching-partner").fill(String(typed));
    await page.getByTestId("patching-partner").press("Enter");
    await page.getByText(`into corrupt #${typed}`).waitFor();
    const asked = await inspect(`&partner=${typed}`);
    assert.equal(asked.patching.corrupt_example, typed);
    assert.notDeepEqual(asked.patching.resid_pre, report.patching.resid_pre);
    const cellTip = "patching-resid_pre";
    await page.getByTestId(cellTip).hover({ position: await cellCentre(page, cellTip, [0, 1]) });
    assert.equal(
      await page.getByTestId(`${cellTip}-tip`).getAttribute("data-value"),
      String(asked.patching.resid_pre[0]![1] ?? NaN),
    );
    // The example itself is refused on the page, and the views stay.
    await page.getByTestId("patching-partner").fill(String(example));
    await page.getByTestId("patching-partner").press("Enter");
    await page.getByTestId("patching-partner-problem").filter({ hasText: "is the example itself" })
      .waitFor();
    // Shift-click on the grid picks the partner; the picked example stays.
    const grid = "example-table-all";
    await page.getByTestId(grid).click({
      position: await cellCentre(page, grid, [7, 9]),
      modifiers: ["Shift"],
    });
    await page.getByText(`into corrupt #${7 * P + 9}`).waitFor();
    assert.equal(await attr(page, "picked-example", "data-example"), String(example));
    assert.equal(await page.getByTestId("patching-partner-problem").innerText(), ""); // gone with it
    // The partner's cell is outlined black on the grid: its left edge, halfway down.
    const edge = await page.evaluate(`(() => {
      const canvas = document.querySelector('[data-testid="${grid}"]');
      const dpr = canvas.width / canvas.clientWidth;
      const [cell, rowH] = [Number(canvas.dataset.cell) * dpr, Number(canvas.dataset.cellHeight) * dpr];
      const [x, y] = [Math.round(9 * cell), Math.floor(7.5 * rowH)];
      return [...canvas.getContext("2d").getImageData(x, y, 1, 1).data.slice(0, 3)];
    })()`);
    assert.deepEqual(edge, [17, 17, 17]);
    await page.getByTestId("patching").screenshot({ path: `${SHOTS}fit_patching.png` });
  },
);
