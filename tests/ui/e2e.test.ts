// The page in a real browser (Debian's Chromium, driven by playwright-core): open it with the
// token, see the runs table, launch a smoke run from the form, select it, and watch its loss and
// accuracy curves grow. Screenshots go to tests/ui/screenshots/ for a person to look at.
import * as assert from "node:assert/strict";
import { browserTest, SHOTS, until } from "./browser.ts";

browserTest(
  "page: open with the token, launch a smoke run, and watch its curves grow",
  { viewport: { width: 1280, height: 1000 } },
  async ({ page }) => {
    // The token leaves the address bar; the cookie carries it from now on.
    assert.equal(new URL(page.url()).search, "");
    await page.getByTestId("runs-table").waitFor();
    await page.screenshot({ path: `${SHOTS}1_empty.png`, fullPage: true });

    await page.getByTestId("launch-preset").selectOption("smoke");
    await page.getByTestId("launch-steps").fill("300");
    await page.getByTestId("launch-submit").click();
    await page.getByTestId("launch-result").waitFor();
    const name = (await page.getByTestId("launch-result").innerText()).replace(/^started\s*/, "")
      .trim();
    assert.match(name, /^modular_add_23/);
    const row = page.getByTestId(`run-row-${name}`);
    await row.waitFor();
    await page.getByTestId(`run-check-${name}`).check();

    const points = async (chart: string) =>
      Number(await page.getByTestId(chart).getAttribute("data-points") ?? 0);
    await until("the loss curve's first points", async () => (await points("loss-chart")) >= 2);
    const before = await points("loss-chart");
    await page.screenshot({ path: `${SHOTS}2_training.png`, fullPage: true });
    await until("the loss curve to grow", async () => (await points("loss-chart")) > before);
    await until("the run to finish", async () => /finished/.test(await row.innerText()));
    assert.ok((await points("acc-chart")) >= 7, "accuracy: steps 0, 50, ..., 300");
    // The final checkpoint, written as the run ends, appears under the step slider.
    await page.getByTestId("checkpoint-slider").waitFor();
    // The slider follows the newest checkpoint as the list is fetched again after the run ends.
    await until(
      "the slider on the final checkpoint, step 300",
      async () => /step 300\b/.test(await page.getByTestId("checkpoint-label").innerText()),
    );
    await page.screenshot({ path: `${SHOTS}3_finished.png`, fullPage: true });
  },
);
