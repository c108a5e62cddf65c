// The launch form in a real browser: it opens on the preset a bare `train` picks on the server's
// machine (told here: a hardware GPU, so grokking, not the first preset in the list), offers each
// choice field as a select listing the server's values, and a run launched with picked choices
// (the folded advanced group's too: shortformer positions, Grokfast) trains the config they name.
// Screenshots go to tests/ui/screenshots/.
import * as assert from "node:assert/strict";
import { browserTest, SHOTS, until } from "./browser.ts";

browserTest(
  "page: the launch form opens on the machine's default and offers choices as selects",
  { viewport: { width: 1280, height: 1200 }, hardwareGpu: true },
  async ({ page, runs }) => {
    const form = page.getByTestId("launch-form");
    await form.waitFor();
    const preset = page.getByTestId("launch-preset");
    await until("the presets", async () => (await preset.inputValue()) !== "");
    assert.equal(await preset.inputValue(), "grokking");
    assert.match(await form.innerText(), /chosen because this machine has a GPU/);
    const options = async (id: string) =>
      (await page.getByTestId(`launch-${id}`).locator("option").allInnerTexts()).map((t) =>
        t.trim()
      );
    assert.deepEqual(await options("preset"), [
      "grokking",
      "oocl",
      "smoke",
      "induction",
      "brackets",
      "strings",
      "tinygpt",
    ]);
    assert.deepEqual(await options("device"), ["auto (default)", "auto", "gpu", "cpu"]);
    assert.deepEqual(await options("task"), [
      "modular (preset)",
      "modular",
      "oocl",
      "induction",
      "brackets",
      "strings",
      "text",
    ]);
    assert.deepEqual(await options("op"), [
      "add (preset)",
      "add",
      "sub",
      "mul",
      "div",
      "ssq",
      "x2xyy2",
      "x3xy",
    ]);
    assert.deepEqual(await options("act_fn"), ["relu (preset)", "relu", "gelu", "gelu_new"]);
    assert.deepEqual(await options("normalization_type"), ["none (preset)", "LN", "none"]);
    assert.deepEqual(await options("trainable_biases"), ["mlp (preset)", "all", "mlp"]);
    // The advanced group is folded until opened; then it offers train's flags for positions and
    // Grokfast, showing the preset's values (Grokfast off: lambda 0).
    const advanced = page.getByTestId("launch-advanced");
    assert.equal(await advanced.getAttribute("open"), null);
    assert.equal(await page.getByTestId("launch-grokfast_lambda").isVisible(), false);
    await advanced.locator("summary").click();
    assert.deepEqual(await options("positional_embedding_type"), [
      "standard (preset)",
      "standard",
      "shortformer",
    ]);
    // Every number shows what grokking trains: the paper's 25,000 steps, its evaluation cadence.
    const placeholderOf = (id: string) =>
      page.getByTestId(`launch-${id}`).getAttribute("placeholder");
    assert.equal(await placeholderOf("p"), "113");
    assert.equal(await placeholderOf("steps"), "25000");
    assert.equal(await placeholderOf("eval_every"), "100");
    assert.equal(await placeholderOf("grokfast_alpha"), "0.98");
    assert.equal(await placeholderOf("grokfast_lambda"), "0");
    await page.screenshot({ path: `${SHOTS}launch_form_grokking.png`, fullPage: true });

    // On smoke, the frequencies show the preset's; a run launched with picked choices trains them.
    await preset.selectOption("smoke");
    assert.equal(await placeholderOf("eval_every"), "50");
    assert.equal(await placeholderOf("checkpoint_every"), "50");
    await page.getByTestId("launch-name").fill("picked");
    await page.getByTestId("launch-device").selectOption("cpu");
    await page.getByTestId("launch-op").selectOption("sub");
    await page.getByTestId("launch-normalization_type").selectOption("LN");
    await page.getByTestId("launch-trainable_biases").selectOption("all");
    await page.getByTestId("launch-steps").fill("20");
    await page.getByTestId("launch-eval_every").fill("10");
    await page.getByTestId("launch-checkpoint_every").fill("10");
    await page.getByTestId("launch-positional_embedding_type").selectOption("shortformer");
    await page.getByTestId("launch-grokfast_alpha").fill("0.9");
    await page.getByTestId("launch-grokfast_lambda").fill("2");
    await page.screenshot({ path: `${SHOTS}launch_form_smoke.png`, fullPage: true });
    await page.getByTestId("launch-submit").click();
    await page.getByTestId("launch-result").waitFor();
    const config = await until("the run's config", async () => {
      try {
        await Deno.stat(`${runs}/picked/config.json`);
        return true;
      } catch {
        return false;
      }
    }).then(async () => JSON.parse(await Deno.readTextFile(`${runs}/picked/config.json`)));
    assert.equal(config.preset, "smoke");
    assert.equal(config.task.op, "sub");
    assert.equal(config.model.normalization_type, "LN");
    assert.equal(config.model.trainable_biases, "all");
    assert.deepEqual(
      [config.train.steps, config.train.eval_every, config.train.checkpoint_every],
      [20, 10, 10],
    );
    assert.equal(config.model.positional_embedding_type, "shortformer");
    assert.deepEqual([config.train.grokfast_alpha, config.train.grokfast_lambda], [0.9, 2]);
  },
);
