// The prompt views in a real browser (Debian's Chromium, driven by playwright-core), on a tiny
// `text` run trained here with the CLI and never analysed: a prompt typed into the box shows its
// tokens with the loss at each (the server's numbers, in `data-loss`), a thumbnail per head, the
// logit lens and attribution at a chosen position (the server's), the head detectors (one L × H map per detector, coloured by the server's scores), and, with a
// corrupted prompt and two answer tokens, the patching grids beside attribution patching's, each
// coloured by the server's restored fractions, with the correlation the server computed.
// Screenshots go to tests/ui/screenshots/.
import * as assert from "node:assert/strict";
import { attr, browserTest, cellColours, SHOTS } from "./browser.ts";
import { colourAt, divergingScale, sequentialScale } from "../../ui/analysis/colour_scale.ts";
import { formatNumber } from "../../ui/runs_rows.ts";
import { mechlab } from "../helpers.ts";

/** The scales, as `ui/analysis/patch_grids.tsx` and `detectors.tsx` draw them. */
const RESTORED = divergingScale("restored fraction (1 = clean)", [], { atLeast: 1 });
const SCORE = sequentialScale("detector score", [], { min: 0, max: 1 });
const [L, H] = [2, 2];

/** A 2-layer character model on the committed corpus, 20 steps on the CPU. */
async function textRun(runs: string): Promise<void> {
  const train = await mechlab(
    "train",
    "--preset=tinygpt",
    "--device=cpu",
    "--steps=20",
    "--warmup-steps=2",
    `--n-layers=${L}`,
    "--d-model=32",
    `--n-heads=${H}`,
    "--d-head=16",
    "--d-mlp=64",
    "--n-ctx=32",
    "--stride=32",
    "--checkpoint-every=20",
    "--eval-every=20",
    `--out=${runs}`,
    "--name=t",
  );
  assert.equal(train.code, 0, train.err);
}

browserTest(
  "prompt views: tokens with their loss, heads, detectors, patching beside attribution",
  { setup: textRun },
  async ({ page }) => {
    await page.getByTestId("run-check-t").check();
    await page.getByTestId("prompt-views").waitFor();
    const [clean, corrupt] = ["A green boat sleep", "A green bird sleep"];
    await page.getByTestId("prompt-text").fill(clean);
    await page.getByTestId("prompt-corrupt").fill(corrupt);
    await page.getByTestId("prompt-answer").fill("s");
    await page.getByTestId("prompt-corrupt-answer").fill("e");
    // The sweep's request is held back until attribution alone (`patching=0`) has shown.
    let release = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    await page.route(/\/patch\?/, async (route) => {
      if (!route.request().url().includes("patching=0")) await held;
      await route.continue();
    });
    await page.getByTestId("prompt-submit").click();
    await page.getByTestId("prompt-report").waitFor();
    const step = await attr(page, "prompt-report", "data-step");
    assert.equal(step, "20");
    const api = (path: string) =>
      page.evaluate((p) => fetch(p).then((r) => r.json()), `/api/runs/t/${path}`);
    const q = `step=20&prompt=${encodeURIComponent(clean)}`;
    const seq = await api(`sequence?${q}`);

    // The tokens, each with the server's loss (the last has no next token: none).
    const T = clean.length;
    assert.deepEqual(seq.tokens, [...clean]);
    const spans = page.locator('[data-testid^="prompt-loss-token-"]');
    assert.deepEqual(await spans.evaluateAll((els) => els.map((e) => e.textContent)), seq.tokens);
    const losses = await spans.evaluateAll((els) => els.map((e) => e.getAttribute("data-loss")));
    assert.equal(seq.loss[T - 1], null);
    assert.deepEqual(losses.map((l) => l === "" ? null : Number(l)), seq.loss);
    assert.ok(seq.loss.slice(0, -1).every((l: number) => l > 0 && l < 10));
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        assert.equal(await attr(page, `prompt-head-${l}-${h}`, "data-rows"), String(T));
      }
    }

    // The lens and the attribution at a chosen position: the server's, following the next token.
    await page.getByTestId("prompt-pos").fill("3");
    await page.getByTestId("prompt-pos").press("Enter");
    await page.getByText("following “e” (next token)").waitFor();
    const at3 = await api(`sequence?${q}&pos=3`);
    assert.equal(at3.target_text, "e");
    const dla = await page.getByTestId("prompt-dla").locator("tr").evaluateAll((rows) =>
      rows.map((r) => r.firstElementChild?.textContent)
    );
    assert.deepEqual(dla, at3.dla.labels);
    const lens = await page.getByTestId("prompt-lens").locator("tr td:nth-child(2)")
      .allInnerTexts();
    assert.deepEqual(lens, at3.logit_lens.target_prob.map((p: number) => `p ${formatNumber(p)}`));

    // The head detectors, coloured by the server's scores.
    await page.getByTestId("prompt-detectors").waitFor();
    const detect = await api("detect?step=20");
    assert.deepEqual(
      await cellColours(page, "prompt-detector-induction"),
      detect.induction.flat().map((s: number) => colourAt(SCORE, s)),
    );

    // Patching beside attribution, on the server's numbers, with its correlation.
    await page.getByTestId("prompt-patching-pending").waitFor();
    assert.equal(await page.getByTestId("prompt-attr-resid").count(), 1);
    assert.equal(await page.getByTestId("prompt-patch-resid").count(), 0);
    release();
    await page.getByTestId("prompt-correlation").waitFor();
    const patch = await api(
      `patch?${q}&corrupt=${encodeURIComponent(corrupt)}&answer=s&corrupt_answer=e`,
    );
    assert.deepEqual(patch.answer_texts, ["s", "e"]);
    for (
      const [testid, values] of [
        ["prompt-patch-resid", patch.resid_pre],
        ["prompt-attr-resid", patch.attribution.resid_pre],
        ["prompt-patch-heads", patch.head_out],
        ["prompt-attr-heads", patch.attribution.head_out],
      ] as const
    ) {
      assert.equal(await attr(page, testid, "data-rows"), String(L), testid);
      assert.ok((values as number[][]).flat().every((v) => v !== null), testid);
      const got = await cellColours(page, testid);
      const want = (values as number[][]).flat().map((v) => colourAt(RESTORED, v));
      const i = got.findIndex((c, k) => c.join() !== want[k]!.join());
      assert.equal(
        i,
        -1,
        `${testid} cell ${i}: ${got[i]} vs ${want[i]} (${(values as number[][]).flat()[i]})`,
      );
    }
    assert.equal(await attr(page, "prompt-patch-resid", "data-cols"), String(T));
    assert.equal(await attr(page, "prompt-attr-heads", "data-cols"), String(H));
    const rho = patch.attribution.correlation;
    assert.ok(rho.resid_pre !== null && rho.head_out !== null);
    assert.equal(
      await page.getByTestId("prompt-correlation-resid").innerText(),
      `r = ${formatNumber(rho.resid_pre)}`,
    );
    assert.equal(
      await page.getByTestId("prompt-correlation-heads").innerText(),
      `r = ${formatNumber(rho.head_out)}`,
    );
    console.log(
      `attribution vs patching on the tiny text run: r = ${rho.resid_pre.toFixed(3)} (residual), ` +
        `${rho.head_out.toFixed(3)} (heads)`,
    );
    await page.getByTestId("prompt-views").screenshot({ path: `${SHOTS}prompt_views.png` });

    // A corrupted prompt of another length: the server's one line, shown.
    await page.getByTestId("prompt-corrupt").fill("A green bird");
    await page.getByTestId("prompt-submit").click();
    await page.getByTestId("prompt-patch-error").waitFor();
    assert.match(
      await page.getByTestId("prompt-patch-error").innerText(),
      /the clean sequence has 18 tokens, the corrupted 12/,
    );
  },
);
