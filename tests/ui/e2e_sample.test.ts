// The prompt box in a real browser (Debian's Chromium, driven by playwright-core), on the tiny
// smoke run trained here: a typed prompt's continuation streams in, each token with the float64
// reference's argmax and probability (in data-prob and the hover title, shading its background);
// a longer draw streams every token; a prompt the vocabulary cannot spell shows the server's line.
import * as assert from "node:assert/strict";
import { browserTest, SHOTS } from "./browser.ts";
import { argmax, referenceLogits, softmaxAt, trainTiny } from "../sample/sample_helpers.ts";

browserTest(
  "sample: a typed prompt streams tokens with their probabilities",
  { setup: trainTiny },
  async ({ page, prepared: run }) => {
    await page.getByTestId("run-check-t").check();
    await page.getByTestId("checkpoint-label").filter({ hasText: "step 20" }).waitFor();
    await page.getByTestId("sample-prompt").fill("35=");
    await page.getByTestId("sample-new-tokens").fill("1");
    await page.getByTestId("sample-submit").click();
    const token = page.getByTestId("sample-token");
    await token.first().waitFor();
    const logits = await referenceLogits(run, 20, [3, 5, 7]);
    const answer = argmax(logits);
    assert.equal(await token.count(), 1);
    assert.equal(await token.innerText(), String(answer));
    const prob = Number(await token.getAttribute("data-prob"));
    assert.ok(Math.abs(prob - softmaxAt(logits, answer)) < 1e-5, `${prob}`);
    assert.equal(await token.getAttribute("title"), `"${answer}": p = ${prob.toFixed(3)}`);
    assert.match((await token.getAttribute("style"))!, /^background: rgb\(\d+, \d+, \d+\)/);

    // Three tokens drawn at temperature 1 stream in, each with a probability in (0, 1].
    await page.getByTestId("sample-prompt").fill("3");
    await page.getByTestId("sample-new-tokens").fill("3");
    await page.getByTestId("sample-temperature").fill("1");
    await page.getByTestId("sample-submit").click();
    await page.locator('[data-testid="sample-output"][data-done="true"]').waitFor();
    await page.waitForFunction(
      `document.querySelectorAll('[data-testid="sample-token"]').length === 3`,
    );
    for (const p of await token.evaluateAll((es) => es.map((e) => Number(e.dataset.prob)))) {
      assert.ok(p > 0 && p <= 1, `${p}`);
    }
    await page.getByTestId("sample").screenshot({ path: `${SHOTS}/sample.png` });

    await page.getByTestId("sample-prompt").fill("3x");
    await page.getByTestId("sample-submit").click();
    await page.getByTestId("sample-error").waitFor();
    assert.match(
      await page.getByTestId("sample-error").innerText(),
      /^character "x" \(at 1\) is not in the vocabulary$/,
    );
    assert.equal(await token.count(), 0);
  },
);
