// The analysis views of an `oocl` run in a real browser (Debian's Chromium, driven by playwright-
// core), on a small run trained and analysed here with the CLI: the three example grids (table 1,
// table 2 over the aliases, the links) draw every cell in its split's colour, a hover on a table
// cell names its alias twin, the aliases view shows each token's alias cosine and the twin counts,
// a click on a cell moves attention, DLA and patching to that example, the progress charts carry
// the oocl measures, and the checkpoint slider moves the views to the first step. The expected
// values come from analysis/index.json and step_*.json, and from the task's layout as
// engine/data/oocl.ts documents it (table 1 `[true, x, y, =] → x² + y² mod p` at x·p + y, table 2
// over the aliases at p² + x·p + y, the links `[define, define, k, =]` at 2p² + k). Screenshots of
// each view go to tests/ui/screenshots/oocl_*.png for a person to look at.
import * as assert from "node:assert/strict";
import type { AnalysisIndex, CheckpointReport } from "../../engine/analysis/report.ts";
import { attr, browserTest, cellCentre, cellColours, SHOTS, until } from "./browser.ts";
import { mechlab } from "../helpers.ts";

const P = 7;
const PP = P * P;
const SPLIT_RGB = [[31, 119, 180], [255, 127, 14]]; // train, test: Tableau 10's first two
const NO_SPLIT_RGB = [220, 220, 220];

/** Trains and analyses the run `o` under `runs` with the CLI, on the CPU. */
async function analysedRun(runs: string): Promise<void> {
  const train = await mechlab(
    "train",
    "--preset=oocl",
    `--p=${P}`,
    "--steps=40",
    "--checkpoint-every=20",
    "--eval-every=20",
    "--d-model=16",
    "--n-heads=2",
    "--d-head=8",
    "--device=cpu",
    `--out=${runs}`,
    "--name=o",
  );
  assert.equal(train.code, 0, train.err);
  const analyze = await mechlab("analyze", `--run=${runs}/o`, "--device=cpu");
  assert.equal(analyze.code, 0, analyze.err);
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

/** Example `i`'s input tokens, by id, as engine/data/oocl.ts lays the examples out. */
function exampleTokens(i: number): number[] {
  const [equal, truth, define] = [2 * P, 2 * P + 1, 2 * P + 3];
  if (i >= 2 * PP) return [define, define, i - 2 * PP, equal];
  const alias = i >= PP ? P : 0;
  return [truth, Math.floor((i % PP) / P) + alias, (i % P) + alias, equal];
}

/** Whether `shown`, written to 3 significant digits, is `value` (half a unit of the 3rd digit). */
function shownAs(shown: number, value: number): boolean {
  const unit = value === 0 ? 0 : 10 ** (Math.floor(Math.log10(Math.abs(value))) - 2);
  return Math.abs(shown - value) <= unit / 2 + 1e-12;
}

browserTest(
  "oocl analysis views: grids by split, alias twins, aliases, picked example, slider",
  { setup: analysedRun },
  async ({ page, runs }) => {
    const dir = `${runs}/o/analysis`;
    const index = await readJson<AnalysisIndex>(`${dir}/index.json`);
    const report = async (step: number) =>
      await readJson<CheckpointReport>(`${dir}/step_${String(step).padStart(6, "0")}.json`);
    const [first, last] = [await report(20), await report(40)];
    assert.deepEqual([index.task, index.p, index.steps], ["oocl", P, [0, 20, 40]]);
    assert.deepEqual(index.groups, ["table1", "table2", "links"]);
    assert.equal(index.examples, 2 * PP + 2 * P);
    // The layout the grids rely on: the answers of x² + y² mod p where the task puts them.
    for (const i of [0, 17, 48]) {
      const [x, y] = [Math.floor(i / P), i % P];
      assert.equal(index.targets[i], (x * x + y * y) % P, `table 1 answer of (${x}, ${y})`);
      assert.equal(index.targets[PP + i], ((x * x + y * y) % P) + P, `table 2 answer`);
    }
    const label = (t: number) => index.vocab[t]!;
    const splitName = (i: number) => ["train", "test"][index.split[i]!]!;

    await page.getByTestId("run-check-o").check();
    await page.getByTestId("attention").waitFor(); // the default example, inspected at step 40
    assert.equal(await attr(page, "analysis-step", "data-step"), "40");

    // The grids: p × p per table, 2 × p links, every cell in its split's colour (the links
    // always train), each table's examples in that table's group.
    const tables = [
      { name: "table1", rows: P, cols: P, first: 0, group: 0 },
      { name: "table2", rows: P, cols: P, first: PP, group: 1 },
      { name: "links", rows: 2, cols: P, first: 2 * PP, group: 2 },
    ];
    for (const t of tables) {
      const grid = `example-table-${t.name}`;
      assert.deepEqual(
        [
          await attr(page, grid, "data-rows"),
          await attr(page, grid, "data-cols"),
        ],
        [t.rows, t.cols].map(String),
      );
      const colours = await cellColours(page, grid);
      assert.equal(colours.length, t.rows * t.cols);
      colours.forEach((rgb, c) => {
        const i = t.first + c;
        assert.equal(index.group[i], t.group, `example ${i} in ${t.name}`);
        const want = SPLIT_RGB[index.split[i]!] ?? NO_SPLIT_RGB;
        assert.deepEqual(rgb, want, `${t.name} cell ${c}: example ${i}, split ${index.split[i]}`);
      });
      if (t.name !== "links") {
        const splits = new Set(index.split.slice(t.first, t.first + PP));
        assert.deepEqual([...splits].sort(), [0, 1], `${t.name} has train and test cells`);
      }
    }

    // Hovering table 1's (2, 3) names it and its alias twin at the same place in table 2.
    const [hx, hy] = [2, 3];
    const h = hx * P + hy;
    await page.getByTestId("example-table-table1").hover({
      position: await cellCentre(page, "example-table-table1", [hx, hy]),
    });
    const readout = page.getByTestId("example-readout");
    const twinLine = `#${h} table1 (${hx}, ${hy}) → ${label(index.targets[h]!)}, ${
      splitName(h)
    } · alias (x'${hx}, x'${hy}) → ${label(index.targets[h + PP]!)}, ${splitName(h + PP)}`;
    await until(
      `the readout of #${h}`,
      async () => (await readout.innerText()).startsWith(`#${h} `),
    );
    const [shown, loss] = (await readout.innerText()).split(" · loss ");
    assert.equal(shown, twinLine);
    assert.ok(shownAs(Number(loss), last.example_loss[h]!), `loss ${loss}`);
    assert.equal(label(index.targets[h + PP]!), `x'${index.targets[h]}`);
    await page.getByTestId("example-grid").screenshot({ path: `${SHOTS}oocl_examples.png` });

    // Aliases: p cosines of the shown step, as written to 3 digits; the twin counts from the
    // split (held-out cells whose twin in the other table trained) with their accuracies.
    const aliasValues = async () =>
      (await page.getByTestId("alias-bars").locator("g.slot title").allTextContents())
        .map((s) => Number(s.split(": ")[1]));
    const aliasesShow = async (r: CheckpointReport) => {
      const shown = await aliasValues();
      return shown.length === P && shown.every((v, i) => shownAs(v, r.oocl!.alias_cosine[i]!));
    };
    assert.equal(await attr(page, "alias-bars", "data-bars"), String(P));
    assert.ok(await aliasesShow(last), `alias cosines ${await aliasValues()}`);
    assert.ok(!(await aliasesShow(first)), "step 20's cosines differ at 3 digits");
    await page.getByText("token and alias embeddings · step 40").waitFor();
    const twins = [0, PP].map((from) => {
      const twin = from === 0 ? PP : -PP;
      return Array.from({ length: PP }, (_, c) => from + c)
        .filter((i) => index.split[i] === 1 && index.split[i + twin] === 0).length;
    });
    assert.deepEqual(last.oocl!.twin.map((t) => t.n), twins);
    const twinText = await page.getByTestId("twin-acc").innerText();
    const parsed = [...twinText.matchAll(/table (\d): (\d+) held-out[^,]*, accuracy (\S+)/g)];
    const counts = [[1, twins[0]], [2, twins[1]]]; // [table, n]
    assert.deepEqual(parsed.map((m) => [Number(m[1]), Number(m[2])]), counts);
    parsed.forEach((m, k) => assert.ok(shownAs(Number(m[3]), last.oocl!.twin[k]!.acc), m[0]));
    await page.getByTestId("aliases").screenshot({ path: `${SHOTS}oocl_aliases.png` });

    // A click on table 2's (4, 5) picks example p² + 4p + 5: the inspect views show its tokens.
    const picked = PP + 4 * P + 5;
    await page.getByTestId("example-table-table2").click({
      position: await cellCentre(page, "example-table-table2", [4, 5]),
    });
    await page.locator(`[data-testid="picked-example"][data-example="${picked}"]`).waitFor();
    await page.getByText(`attention · example #${picked} at step 40`).waitFor();
    const tokens = exampleTokens(picked).map(label);
    assert.deepEqual(tokens, ["true", "x'4", "x'5", "="]);
    const shownTokens = () => page.locator('[data-testid^="attention-token-"]').allInnerTexts();
    assert.deepEqual(await shownTokens(), tokens);
    for (let l = 0; l < index.n_layers; l++) {
      for (let hd = 0; hd < index.n_heads; hd++) {
        assert.equal(await attr(page, `attention-head-${l}-${hd}`, "data-rows"), "4");
      }
    }
    await page.getByTestId("attention").screenshot({ path: `${SHOTS}oocl_attention.png` });
    const dla = page.getByTestId("dla");
    await dla.getByText(
      `direct logit attribution to “${label(index.targets[picked]!)}” · example #${picked}`,
    ).waitFor();
    // parts per layer: the embeddings and biases, then each head (attention only: no MLP).
    assert.ok(
      Number(await attr(page, "dla-bars", "data-bars")) >= index.n_layers * index.n_heads,
    );
    await dla.screenshot({ path: `${SHOTS}oocl_dla.png` });
    const patching = page.getByTestId("patching");
    await patching.getByText(`clean #${picked} into corrupt`).waitFor();
    assert.deepEqual(
      [
        await attr(page, "patching-resid_pre", "data-rows"),
        await attr(page, "patching-resid_pre", "data-cols"),
        await attr(page, "patching-head_out", "data-cols"),
      ],
      [index.n_layers, 4, index.n_heads].map(String),
    );
    const colLabels = patching.locator("figure").first().locator("text.col-tick");
    assert.deepEqual(await colLabels.allTextContents(), tokens);
    await patching.screenshot({ path: `${SHOTS}oocl_patching.png` });

    // A link: [define, define, x'3, =] → 3.
    const link = 2 * PP + P + 3;
    await page.getByTestId("example-table-links").click({
      position: await cellCentre(page, "example-table-links", [1, 3]),
    });
    await page.getByText(`attention · example #${link} at step 40`).waitFor();
    assert.deepEqual(await shownTokens(), ["define", "define", "x'3", "="]);
    assert.deepEqual(await shownTokens(), exampleTokens(link).map(label));
    await dla.getByText(`direct logit attribution to “3” · example #${link}`).waitFor();
    assert.equal(label(index.targets[link]!), "3");

    // Progress: one point per analysed step (0, 20, 40); the fraction chart carries the oocl measures.
    for (const chart of ["loss", "weights", "fraction"]) {
      assert.equal(
        await attr(page, `progress-${chart}-chart`, "data-points"),
        String(index.steps.length),
      );
    }
    const fraction = page.getByTestId("progress-fraction-chart");
    assert.equal(await fraction.locator(".u-title").innerText(), "accuracy, alias cosine");
    const legend = await fraction.locator(".u-label").allInnerTexts();
    for (const key of ["train_acc", "test_acc", "alias_alignment", "twin_acc"]) {
      assert.ok(legend.includes(key), `${key} in ${legend}`);
    }
    const lossLegend = await page.getByTestId("progress-loss-chart").locator(".u-label")
      .allInnerTexts();
    assert.ok(!lossLegend.includes("restricted_loss"), "modular's measures are left out");
    // No phases of grokking for the out-of-context experiment, here or on the curves.
    assert.equal(await attr(page, "progress-phases", "data-phases"), "0");
    assert.match(await page.getByTestId("progress-phases").innerText(), /^no phases of grokking/);
    for (const chart of ["progress-loss-chart", "loss-chart"]) {
      const labels = await page.getByTestId(chart).locator(".u-label").allInnerTexts();
      assert.ok(!labels.some((l) => /memorisation|cleanup/.test(l)), `${chart}: ${labels}`);
    }
    await page.getByTestId("progress").screenshot({ path: `${SHOTS}oocl_progress.png` });

    // The checkpoint slider to its second step (20; the first is step 0): every view follows.
    await page.getByTestId("checkpoint-slider").fill("1");
    await page.getByText(`attention · example #${link} at step 20`).waitFor();
    assert.equal(await attr(page, "analysis-step", "data-step"), "20");
    await page.getByText("token and alias embeddings · step 20").waitFor();
    assert.ok(await aliasesShow(first), `step 20's alias cosines ${await aliasValues()}`);
    await page.screenshot({ path: `${SHOTS}oocl_step20.png`, fullPage: true });
  },
);
