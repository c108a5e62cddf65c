// The prompt views in a real browser (Debian's Chromium, driven by playwright-core) on an imported
// GPT-2: a tiny random one with GPT-2's real vocabulary of 50,257 (tests/runs/hf_gpt2.ts, written
// into the temporary runs folder and imported with the CLI), so the prompt goes through GPT-2's
// BPE. The run list shows it as imported (its source and parameter count, no steps); the prompt
// "Hello world, hello world" shows its BPE tokens after the BOS `<|endoftext|>`, the leading space
// of " world" kept, each with the server's loss; a thumbnail per head; the head detectors; and an
// IOI-style pair patched with the answers " Mary" and " John", on the server's numbers: attribution
// first, and the real sweep (and the detectors) on the buttons a GPT-2-sized model gets (the
// server told so here).
// Screenshots go to tests/ui/screenshots/.
import * as assert from "node:assert/strict";
import { attr, browserTest, cellColours, SHOTS } from "./browser.ts";
import { colourAt, divergingScale, sequentialScale } from "../../ui/analysis/colour_scale.ts";
import { importedText } from "../../ui/runs_rows.ts";
import { importTinyGpt2, TINY_GPT2 } from "../runs/hf_gpt2.ts";

const RESTORED = divergingScale("restored fraction (1 = clean)", [], { atLeast: 1 });
const SCORE = sequentialScale("detector score", [], { min: 0, max: 1 });
const { n_layer: L, n_head: H } = TINY_GPT2;

/** The tiny GPT-2 imported as runs/tinygpt2. */
async function importTiny(runs: string): Promise<void> {
  await importTinyGpt2(runs);
}

browserTest(
  "prompt views on an imported GPT-2: BPE tokens with BOS, their losses, heads, detectors, patching",
  // As if it were GPT-2-sized: the page stops at attribution and offers the sweep and the
  // detectors on buttons.
  { setup: importTiny, eagerMaxParams: 0 },
  async ({ page }) => {
    const api = (path: string) =>
      page.evaluate((p) => fetch(p).then((r) => r.json()), `/api/${path}`);
    // The run list: imported, with its source and parameter count, no steps.
    const row = page.getByTestId("run-row-tinygpt2");
    await row.waitFor();
    const [summary] = await api("runs");
    assert.equal(summary.status, "imported");
    assert.equal(await row.locator("td.col-status").innerText(), "imported");
    assert.equal(await row.locator("td.col-step").innerText(), importedText(summary));
    assert.match(importedText(summary)!, /^tinygpt2, \d+k parameters$/);

    await page.getByTestId("run-check-tinygpt2").check();
    await page.getByTestId("analysis-imported").waitFor(); // no analyse button: it never trained
    await page.getByTestId("prompt-views").waitFor();
    const clean = "Hello world, hello world";
    await page.getByTestId("prompt-text").fill(clean);
    await page.getByTestId("prompt-submit").click();
    await page.getByTestId("prompt-report").waitFor();
    assert.equal(await attr(page, "prompt-report", "data-step"), "0");
    const seq = await api(`runs/tinygpt2/sequence?step=0&prompt=${encodeURIComponent(clean)}`);

    // GPT-2's BPE tokens, BOS first, the spaces theirs; each with the server's loss.
    const tokens = ["<|endoftext|>", "Hello", " world", ",", " hello", " world"];
    assert.deepEqual(seq.tokens, tokens);
    const spans = page.locator('[data-testid^="prompt-loss-token-"]');
    assert.deepEqual(await spans.evaluateAll((els) => els.map((e) => e.textContent)), tokens);
    const shown = await spans.nth(2).evaluate((e) =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).getComputedStyle(e).whiteSpace
    );
    assert.equal(shown, "pre"); // " world" is drawn with its leading space
    const losses = await spans.evaluateAll((els) => els.map((e) => e.getAttribute("data-loss")));
    assert.deepEqual(losses.map((l) => l === "" ? null : Number(l)), seq.loss);
    assert.equal(seq.loss.at(-1), null);
    // A random model over 50,257 tokens: losses near ln(50257) = 10.8, never below a few nats.
    assert.ok(seq.loss.slice(0, -1).every((l: number) => l > 3 && l < 30), String(seq.loss));
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        assert.equal(await attr(page, `prompt-head-${l}-${h}`, "data-rows"), String(tokens.length));
      }
    }

    // The head detectors on repeated random tokens, on request, coloured by the server's scores.
    assert.equal(await page.getByTestId("prompt-detectors").count(), 0);
    await page.getByTestId("prompt-detectors-run").click();
    await page.getByTestId("prompt-detectors").waitFor();
    const detect = await api("runs/tinygpt2/detect?step=0");
    assert.deepEqual(
      await cellColours(page, "prompt-detector-induction"),
      detect.induction.flat().map((s: number) => colourAt(SCORE, s)),
    );

    // IOI style: the answers are single BPE tokens with their space, no BOS.
    const [ioi, swapped] = [
      "When Mary and John went, John gave it to",
      "When John and Mary went, Mary gave it to",
    ];
    await page.getByTestId("prompt-text").fill(ioi);
    await page.getByTestId("prompt-corrupt").fill(swapped);
    await page.getByTestId("prompt-answer").fill(" Mary");
    await page.getByTestId("prompt-corrupt-answer").fill(" John");
    let sweeps = 0; // the sweep's requests: none until asked for
    await page.route(/\/patch\?/, async (route) => {
      if (!route.request().url().includes("patching=0")) sweeps++;
      await route.continue();
    });
    await page.getByTestId("prompt-submit").click();
    await page.getByTestId("prompt-patching-ask").waitFor();
    assert.equal(await page.getByTestId("prompt-patch-resid").count(), 0);
    assert.equal(sweeps, 0);
    // 2 layers × 11 positions for the residual stream and the MLPs, 2 × 2 heads, the unpatched run
    assert.equal(
      await page.getByTestId("prompt-patching-run").innerText(),
      "patch each activation (up to 49 forward passes)",
    );
    await page.getByTestId("prompt-patching-run").click();
    await page.getByTestId("prompt-correlation").waitFor();
    assert.equal(sweeps, 1);
    const patch = await api(
      `runs/tinygpt2/patch?step=0&prompt=${encodeURIComponent(ioi)}&corrupt=${
        encodeURIComponent(swapped)
      }&answer=%20Mary&corrupt_answer=%20John`,
    );
    assert.deepEqual(patch.answer_texts, [" Mary", " John"]);
    assert.deepEqual([patch.clean_answer, patch.corrupt_answer], [5335, 1757]);
    for (
      const [testid, values] of [
        ["prompt-patch-resid", patch.resid_pre],
        ["prompt-attr-heads", patch.attribution.head_out],
      ] as const
    ) {
      assert.equal(await attr(page, testid, "data-rows"), String(L), testid);
      const want = (values as number[][]).flat().map((v) => colourAt(RESTORED, v));
      assert.deepEqual(await cellColours(page, testid), want, testid);
    }
    await page.getByTestId("prompt-views").screenshot({ path: `${SHOTS}gpt2_prompt_views.png` });
  },
);
