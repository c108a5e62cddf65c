// The analysis views in a real browser (Debian's Chromium, driven by playwright-core), on a run
// trained and analysed here with the CLI: each view draws (counts and sizes checked against
// analysis/index.json and the task's shape; the example grid's pixels against the split), a click
// on the grid picks the example the inspect views show, the attention head and token hovers work,
// and the checkpoint slider moves every view to another step. The phases of grokking come from
// the metrics lines onto the progress view and the curves (with the slider's step and a log step
// axis); the token maps (full QK and OV circuits, attention from =, the Fourier picture of W_E and
// W_U) draw every cell in its JSON value's colour. A run never analysed is analysed
// from the page's button: its views appear with every checkpoint; a run that cannot be analysed
// shows the command's error line. Screenshots of each view go to
// tests/ui/screenshots/ for a person to look at.
import * as assert from "node:assert/strict";
import type { AnalysisIndex } from "../../engine/analysis/report.ts";
import { attr, browserTest, cellCentre, cellColours, SHOTS, until } from "./browser.ts";
import { formatNumber } from "../../ui/runs_rows.ts";
import {
  colourAt,
  type ColourScale,
  divergingScale,
  sequentialScale,
} from "../../ui/analysis/colour_scale.ts";
import { mechlab } from "../helpers.ts";

const P = 23; // the smoke preset's modulus

/**
 * Trains and analyses the run `r` under `runs` as a person would; a run `bare` (a config only)
 * and a copy `r2` of `r` (no analysis/), never analysed.
 */
async function analysedRun(runs: string): Promise<AnalysisIndex> {
  const train = await mechlab(
    "train",
    "--preset=smoke",
    "--steps=400",
    "--checkpoint-every=100",
    "--eval-every=50",
    `--out=${runs}`,
    "--name=r",
  );
  assert.equal(train.code, 0, train.err);
  const analyze = await mechlab("analyze", `--run=${runs}/r`);
  assert.equal(analyze.code, 0, analyze.err);
  await Deno.mkdir(`${runs}/bare`);
  await Deno.copyFile(`${runs}/r/config.json`, `${runs}/bare/config.json`);
  await Deno.mkdir(`${runs}/r2/checkpoints`, { recursive: true });
  for (const dir of ["", "/checkpoints"]) {
    for await (const e of Deno.readDir(`${runs}/r${dir}`)) {
      if (e.isFile) await Deno.copyFile(`${runs}/r${dir}/${e.name}`, `${runs}/r2${dir}/${e.name}`);
    }
  }
  return JSON.parse(await Deno.readTextFile(`${runs}/r/analysis/index.json`));
}

browserTest(
  "analysis views: draw, pick an example on the grid, follow the checkpoint slider",
  { setup: analysedRun },
  async ({ page, prepared: index }) => {
    assert.deepEqual(index.steps, [0, 100, 200, 300, 400]); // step 0 is written at start

    // The first screen checks the newest run by itself (r2 or r): wait for that and uncheck it, so
    // that the panel below is bare's whatever the order the page and the test acted in.
    const checked = page.locator('[data-testid^="run-check-"]:checked');
    await checked.first().waitFor();
    for (const box of await checked.all()) await box.uncheck();
    // A run never analysed says what to run.
    await page.getByTestId("run-check-bare").check();
    // "loading…" first, then the server's answer.
    await page.getByTestId("analysis-problem").filter({ hasText: "not been analysed" }).waitFor();
    assert.match(
      await page.getByTestId("analysis-problem").innerText(),
      /has not been analysed: run `mechlab analyze --run \S*bare`/,
    );
    // Its button runs the command on the server, which fails: the page shows its one error line.
    await page.getByTestId("analyze-run").click();
    await page.getByTestId("analyze-error").waitFor();
    assert.match(
      await page.getByTestId("analyze-error").innerText(),
      /^mechlab: run \S*bare has no checkpoints yet$/,
    );
    await page.getByTestId("run-check-bare").uncheck();

    // A trained run never analysed: the button analyses it, the views appear with every
    // checkpoint analysed, and "analysing…" goes once the analysis has ended.
    await page.getByTestId("run-check-r2").check();
    await page.getByTestId("analysis-problem").filter({ hasText: "not been analysed" }).waitFor();
    await page.getByTestId("analyze-run").click();
    await page.getByTestId("analyze-status").filter({ hasText: "analysing…" }).waitFor();
    await page.getByTestId("analysis-step").waitFor();
    await page.getByTestId("analyze-status").waitFor({ state: "detached" });
    const checkpoints = await page.evaluate(() =>
      fetch("/api/runs/r2/checkpoints").then((r) => r.json())
    );
    const checkpointSteps = [...new Set(checkpoints.map((c: { step: number }) => c.step))];
    const analysed = await page.evaluate(() =>
      fetch("/api/runs/r2/analysis").then((r) => r.json())
    );
    assert.deepEqual(analysed.steps, checkpointSteps);
    assert.deepEqual(checkpointSteps, [0, 100, 200, 300, 400]);
    assert.equal(await attr(page, "analysis-slider", "max"), String(index.steps.length - 1));
    await page.getByText(`${index.steps.length} analysed checkpoints`).waitFor();
    assert.equal(await attr(page, "analysis-step", "data-step"), "400");
    assert.equal(await page.getByTestId("analyze-error").count(), 0);
    await page.getByTestId("run-check-r2").uncheck();

    await page.getByTestId("run-check-r").check();
    await page.getByTestId("attention").waitFor(); // the default example, inspected at step 400
    assert.equal(await attr(page, "analysis-step", "data-step"), "400");

    // Phases placed from the metrics lines (every 50 steps), on the progress view and the curves.
    const phaseText = await page.getByTestId("progress-phases").innerText();
    const bounds = [...phaseText.matchAll(/(\d+)–(\d+)/g)].flatMap((m) => [+m[1]!, +m[2]!]);
    assert.ok(Number(await attr(page, "progress-phases", "data-phases")) >= 1);
    assert.ok(bounds.some((b) => b % 100 !== 0), `a boundary between checkpoints: ${phaseText}`);
    // Progress: a point per analysed step and per phase boundary on each chart.
    const axis = new Set([...index.steps, ...bounds]);
    for (const chart of ["loss", "weights", "fraction"]) {
      assert.equal(await attr(page, `progress-${chart}-chart`, "data-points"), String(axis.size));
      assert.equal(
        await page.getByTestId(`progress-${chart}-chart`).locator("canvas").count(),
        1,
      );
    }
    // The curves: every metrics line (steps 0..400 by 50), the phases and the slider's step in
    // the legend; a log step axis leaves step 0 out.
    assert.equal(await attr(page, "loss-chart", "data-points"), "9");
    const legend = await page.getByTestId("loss-chart").locator(".u-legend").innerText();
    for (const name of ["memorisation", "cleanup", "checkpoint"]) {
      assert.match(legend, new RegExp(name));
    }
    await page.getByTestId("log-steps").check();
    await until(
      "step 0 left out",
      async () => (await attr(page, "loss-chart", "data-points")) === "8",
    );
    await page.locator("section.curves").screenshot({ path: `${SHOTS}analysis_curves_log.png` });
    await page.getByTestId("log-steps").uncheck();

    // The example grid: p × p cells, each coloured by its split (train blue, test orange).
    const grid = "example-table-all";
    assert.deepEqual(
      [await attr(page, grid, "data-rows"), await attr(page, grid, "data-cols")],
      [String(P), String(P)],
    );
    // Row x, column y: the cells in example order.
    (await cellColours(page, grid)).forEach((rgb, i) => {
      const want = index.split[i] === 0 ? [31, 119, 180] : [255, 127, 14];
      assert.deepEqual(rgb, want, `example ${i}, split ${index.split[i]}`);
    });
    await page.getByTestId("example-colour-loss").click();
    await page.getByTestId("example-grid").getByText("loss at step 400 (log)").waitFor();
    await page.getByTestId("example-grid").screenshot({ path: `${SHOTS}analysis_examples.png` });

    // A click on (x, y) = (3, 5) picks example 3·23 + 5 = 74: the inspect views show it.
    await page.getByTestId(grid).click({ position: await cellCentre(page, grid, [3, 5]) });
    await page.locator('[data-testid="picked-example"][data-example="74"]').waitFor();
    await page.getByText("attention · example #74 at step 400").waitFor();
    const tokens = await page.locator('[data-testid^="attention-token-"]').allInnerTexts();
    assert.deepEqual(tokens, ["3", "5", "="]);
    for (let h = 0; h < 4; h++) {
      assert.equal(await attr(page, `attention-head-0-${h}`, "data-rows"), "3");
    }
    await page.getByTestId("attention-head-0-2").click();
    await page.locator('[data-testid="attention-focus"][data-head="0.2"]').waitFor();
    await page.getByTestId("attention-token-1").hover();
    await page.locator('[data-testid="attention-token-1"].chosen').waitFor();
    await page.getByTestId("attention").screenshot({ path: `${SHOTS}analysis_attention.png` });

    // DLA: as many bars as the report has parts; sorted puts the largest first.
    const inspect = await page.evaluate(() =>
      fetch("/api/runs/r/inspect?step=400&example=74").then((r) => r.json())
    );
    assert.equal(await attr(page, "dla-bars", "data-bars"), String(inspect.dla.labels.length));
    await page.getByTestId("dla-order-sorted").click();
    const largest = inspect.dla.labels[
      inspect.dla.values.indexOf(Math.max(...inspect.dla.values))
    ];
    const firstLabel = () =>
      page.getByTestId("dla-bars").locator("text.label").first().textContent();
    await until(`"${largest}" first`, async () => (await firstLabel()) === largest);
    await page.getByTestId("dla").screenshot({ path: `${SHOTS}analysis_dla.png` });

    // Logit lens: one bar per stage of the report, in its order, each as tall as the target's
    // probability on a fixed 0..1 axis (130 px of bar area), its rank on hover.
    const lens = inspect.logit_lens;
    assert.equal(await attr(page, "logit-lens-bars", "data-bars"), String(lens.labels.length));
    assert.equal(lens.labels.length, 2 * index.n_layers + 1); // resid_pre, then mid and post each
    assert.deepEqual(
      await page.getByTestId("logit-lens-bars").locator("text.label").allTextContents(),
      lens.labels,
    );
    const lensBars = page.getByTestId("logit-lens-bars").locator("rect.bar");
    const lensSlots = page.getByTestId("logit-lens-bars").locator("g.slot");
    for (let i = 0; i < lens.labels.length; i++) {
      const height = Number(await lensBars.nth(i).getAttribute("height"));
      assert.ok(Math.abs(height - Math.max(130 * lens.target_prob[i], 0.5)) < 1e-6, `bar ${i}`);
      assert.match(
        await lensSlots.nth(i).locator("title").textContent() ?? "",
        new RegExp(`rank ${lens.target_rank[i]}$`),
      );
    }
    await page.getByTestId("logit-lens").screenshot({ path: `${SHOTS}analysis_logit_lens.png` });

    // Patching: [L][T] residual stream, [L][H] heads, [L][T] MLP.
    assert.deepEqual(
      [
        await attr(page, "patching-resid_pre", "data-rows"),
        await attr(page, "patching-resid_pre", "data-cols"),
      ],
      ["1", "3"],
    );
    assert.equal(await attr(page, "patching-head_out", "data-cols"), "4");
    assert.equal(await attr(page, "patching-mlp_out", "data-cols"), "3");
    await page.getByTestId("patching").screenshot({ path: `${SHOTS}analysis_patching.png` });

    // Fourier: (p - 1)/2 + 1 frequencies; one circle per key frequency, p points each; neurons.
    assert.equal(await attr(page, "fourier-bars", "data-bars"), String((P - 1) / 2 + 1));
    const circles = page.locator('[data-testid^="circle-"]');
    assert.ok((await circles.count()) >= 1);
    assert.equal(await circles.first().getAttribute("data-points"), String(P));
    assert.ok((await page.locator('[data-testid^="neuron-"]').count()) >= 1);
    for (const view of ["progress", "fourier", "clusters", "circles", "neurons"]) {
      await page.getByTestId(view).screenshot({ path: `${SHOTS}analysis_${view}.png` });
    }

    const step400 = await page.evaluate(() =>
      fetch("/api/runs/r/analysis?step=400").then((r) => r.json())
    );

    // Clusters: a bar per frequency 1..(p-1)/2 as tall as the count of neurons with that
    // frequency and a fraction explained > 0.85, recounted here from neuron_freq/neuron_frac;
    // a loss row per frequency of loss_freqs and one for all of them together.
    const modular = step400.modular as {
      neuron_freq: number[];
      neuron_frac: number[];
      loss_freqs: number[];
      per_freq: { freq: number; restricted_loss: number; excluded_loss: number }[];
    };
    const counts = Array.from(
      { length: (P - 1) / 2 },
      (_, i) =>
        modular.neuron_freq.filter((k, n) => k === i + 1 && modular.neuron_frac[n]! > 0.85)
          .length,
    );
    assert.equal(await attr(page, "clusters-bars", "data-bars"), String(counts.length));
    const clusterBars = page.getByTestId("clusters-bars").locator("rect.bar");
    const clusterSlots = page.getByTestId("clusters-bars").locator("g.slot");
    const tallest = Math.max(...counts, 1); // the bars' range is 0..the largest count
    for (let i = 0; i < counts.length; i++) {
      const height = Number(await clusterBars.nth(i).getAttribute("height"));
      assert.ok(Math.abs(height - Math.max(130 * counts[i]! / tallest, 0.5)) < 1e-6, `bar ${i}`);
      assert.match(
        await clusterSlots.nth(i).locator("title").textContent() ?? "",
        counts[i] === 0 ? /no cluster$/ : new RegExp(`^k = ${i + 1}: ${counts[i]} neurons?,`),
      );
    }
    const clustered = counts.reduce((a, b) => a + b, 0);
    assert.equal(await attr(page, "clusters-share", "data-clustered"), String(clustered));
    assert.match(
      await page.getByTestId("clusters-share").innerText(),
      new RegExp(`^${clustered} of ${modular.neuron_freq.length} neurons`),
    );
    const lossTable = page.getByTestId("clusters-losses");
    assert.equal(
      await lossTable.getAttribute("data-rows"),
      String(modular.loss_freqs.length + 1),
    );
    const firstRow = modular.per_freq[0];
    if (firstRow !== undefined) {
      assert.deepEqual(
        await lossTable.locator("tbody tr").first().locator("td").allInnerTexts(),
        [
          `k = ${firstRow.freq}`,
          formatNumber(firstRow.restricted_loss),
          formatNumber(firstRow.excluded_loss),
        ],
      );
    }
    const trainLoss = index.progress[index.steps.indexOf(400)]!.train_loss;
    assert.match(
      await lossTable.locator("caption").innerText(),
      new RegExp(
        `train loss as is:\\s*${formatNumber(trainLoss).replace(".", "\\.")}$`,
      ),
    );

    // Head circuits: a row per head (L·H), a column per singular value; the largest value of
    // all heads is the scale's top colour (viridis yellow), and hover reads a cell out.
    const heads = step400.heads as { qk_singular: number[]; ov_singular: number[] }[];
    assert.equal(heads.length, index.n_layers * index.n_heads);
    for (const c of ["qk", "ov"] as const) {
      const testid = `head-circuits-${c}`;
      const d = heads[0]![`${c}_singular`].length;
      assert.deepEqual(
        [await attr(page, testid, "data-rows"), await attr(page, testid, "data-cols")],
        [String(heads.length), String(d)],
      );
      const flat = heads.flatMap((h) => h[`${c}_singular`]);
      const colours = await cellColours(page, testid);
      assert.deepEqual(colours[flat.indexOf(Math.max(...flat))], [253, 231, 37]);
    }
    await page.getByTestId("head-circuits-qk").hover({ position: { x: 4, y: 4 } });
    const read = await page.getByTestId("head-circuits-qk-tip").innerText();
    const sigma = Number(/^L0H0 QK σ1 = (\S+)$/.exec(read)?.[1]);
    assert.ok(Math.abs(sigma / heads[0]!.qk_singular[0]! - 1) < 5e-3, read); // 3 digits written
    await page.getByTestId("head-circuits").screenshot({ path: `${SHOTS}analysis_circuits.png` });

    // Token maps: the chosen head's full QK (V × V) and OV (V × p) circuits and attention from
    // = (p × p), and W_E, W_Uᵀ in the Fourier basis (p × d_model): every cell drawn in the colour
    // its JSON value has on the map's scale, hover reading the value out; another head's button
    // shows its maps.
    const maps = step400.modular.maps as {
      d_vocab: number;
      d_model: number;
      heads: { qk: number[]; ov: number[]; eq_to_x: number[] }[];
      embed_fourier: number[];
      unembed_fourier: number[];
    };
    const V = index.vocab.length;
    const checkMap = async (
      testid: string,
      [rows, cols]: [number, number],
      values: number[],
      scale: ColourScale,
    ) => {
      assert.deepEqual(
        [await attr(page, testid, "data-rows"), await attr(page, testid, "data-cols")],
        [String(rows), String(cols)],
      );
      const drawn = await cellColours(page, testid);
      values.forEach((v, i) =>
        assert.deepEqual(drawn[i], colourAt(scale, v), `${testid} cell ${i}`)
      );
    };
    for (const h of [0, 2]) {
      await page.getByTestId(`token-maps-head-${h}`).click();
      await page.getByText(`L0H${h} QK: query × key token`).waitFor();
      const m = maps.heads[h]!;
      await checkMap("token-qk", [V, V], m.qk, divergingScale("", m.qk));
      await checkMap("token-ov", [V, P], m.ov, divergingScale("", m.ov));
      const attention = sequentialScale("", m.eq_to_x, { min: 0, max: 1 });
      await checkMap("token-eq-attention", [P, P], m.eq_to_x, attention);
    }
    for (
      const [testid, values] of [
        ["embed-fourier-map", maps.embed_fourier],
        ["unembed-fourier-map", maps.unembed_fourier],
      ] as const
    ) {
      await checkMap(testid, [P, maps.d_model], values, divergingScale("", values));
    }
    // Hover (x, y) = (3, 5) of head 2's attention from =: 240 / 23 = 10 px cells.
    await page.getByTestId("token-eq-attention").hover({ position: { x: 55, y: 35 } });
    assert.equal(
      await page.getByTestId("token-maps-readout").innerText(),
      `L0H2 attention from = to x: x 3, y 5 = ${formatNumber(maps.heads[2]!.eq_to_x[3 * P + 5]!)}`,
    );
    await page.getByTestId("token-maps").screenshot({ path: `${SHOTS}analysis_token_maps.png` });

    // Embedding PCA: one point per token, axes titled with the report's explained fractions.
    const pca = step400.embedding_pca as { explained: number[]; coords: number[][] };
    assert.equal(pca.coords.length, index.vocab.length);
    assert.equal(
      await attr(page, "embedding-pca-plane", "data-points"),
      String(pca.coords.length),
    );
    const plane = page.getByTestId("embedding-pca-plane");
    assert.equal(await plane.locator("circle").count(), index.vocab.length);
    assert.deepEqual(await plane.locator("text.axis-title").allTextContents(), [
      `PC1 (${(pca.explained[0]! * 100).toFixed(1)}%) →`,
      `PC2 (${(pca.explained[1]! * 100).toFixed(1)}%) →`,
    ]);
    await page.getByTestId("embedding-pca").screenshot({ path: `${SHOTS}analysis_pca.png` });

    // The checkpoint slider to its second step (the first is step 0): every view follows to 100.
    await page.getByTestId("checkpoint-slider").fill("1");
    await page.getByText("attention · example #74 at step 100").waitFor();
    assert.equal(await attr(page, "analysis-step", "data-step"), "100");
    await page.getByText("Fourier spectrum of W_E · step 100").waitFor();
    await page.getByText("neurons by frequency · step 100").waitFor();
    await page.getByText("QK and OV circuits' singular values · step 100").waitFor();
    await page.getByText("embedding PCA · step 100").waitFor();
    await page.getByText("full circuits and Fourier maps · step 100").waitFor();
    await page.screenshot({ path: `${SHOTS}analysis_step100.png`, fullPage: true });
  },
);
