// The sweep page's axis choice with three swept axes (one seed each, written by hand): the diagram
// starts on the first two, the third held at its first value; holding it at another shows those
// members' steps; choosing another x axis redraws the grid over it.
import * as assert from "node:assert/strict";
import { gridMembers, openSweep, type SweepAxis } from "../../engine/sweep/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { memberLine } from "../server/sweep_fixture.ts";
import { browserTest, until } from "./browser.ts";

const AXES: SweepAxis[] = [
  { flag: "weight-decay", key: "weight_decay", section: "train", values: [0.3, 1] },
  { flag: "frac-train", key: "frac_train", section: "task", values: [0.3, 0.5] },
  { flag: "lr", key: "lr", section: "train", values: [0.001, 0.01] },
];
const STEPS_800 = [0, 100, 200, 300, 400, 500, 600, 700, 800];
const MEMBERS = gridMembers(AXES, { seeds: 1, base: { seed: 0 }, holdDataSeed: false });
/** Member i (lr fastest) reaches test accuracy 1 at step 100·(i + 1): a distinct step each. */
const reachedOf = (values: Record<string, unknown>) => {
  const i = MEMBERS.findIndex((m) => JSON.stringify(m.values) === JSON.stringify(values));
  return 100 * (i + 1);
};

browserTest("sweep page: three axes, one held, the axes chosen", {
  setup: async (runs) => {
    await openSweep(`${runs}/three`, {
      mechlab_version: "0.1.0",
      preset: "smoke",
      overrides: { task: {}, model: {}, train: { steps: 400 } },
      axes: AXES,
      seeds: 1,
      hold_data_seed: false,
      members: MEMBERS,
    });
    for (const m of MEMBERS) {
      const dir = `${runs}/three/${m.name}`;
      await Deno.mkdir(dir);
      await Deno.writeTextFile(
        `${dir}/config.json`,
        JSON.stringify(resolveConfig("smoke", {}, "0.1.0")),
      );
      const lines = STEPS_800.map((s) => JSON.stringify(memberLine(s, reachedOf(m.values))) + "\n");
      await Deno.writeTextFile(`${dir}/metrics.jsonl`, lines.join(""));
    }
  },
}, async ({ page }) => {
  await page.getByTestId("sweep-open-three").click();
  await page.getByTestId("phase-diagram").waitFor();
  const median = async (r: number, c: number) =>
    Number(await page.getByTestId(`phase-cell-${r}-${c}`).getAttribute("data-median"));
  const want = (v: Record<string, number>) => reachedOf(v);
  // The page redraws after a select's change event: wait for the cell to say it.
  const medianIs = (r: number, c: number, v: number) =>
    until(`cell ${r},${c} at ${v}`, async () => (await median(r, c)) === v, 10_000);
  // x = weight_decay (columns), y = frac_train (rows), lr held at 0.001.
  assert.equal(await page.getByTestId("phase-axis-x").inputValue(), "weight_decay");
  assert.equal(await page.getByTestId("phase-axis-y").inputValue(), "frac_train");
  await medianIs(1, 0, want({ weight_decay: 0.3, frac_train: 0.5, lr: 0.001 }));
  // lr held at 0.01 instead.
  await page.getByTestId("phase-held-lr").selectOption({ label: "0.01" });
  await medianIs(1, 0, want({ weight_decay: 0.3, frac_train: 0.5, lr: 0.01 }));
  await medianIs(0, 1, want({ weight_decay: 1, frac_train: 0.3, lr: 0.01 }));
  // x = lr: y stays frac_train, weight_decay is held now (at its first value).
  await page.getByTestId("phase-axis-x").selectOption("lr");
  await page.getByTestId("phase-held-weight_decay").waitFor();
  assert.equal(await page.getByTestId("phase-axis-y").inputValue(), "frac_train");
  await medianIs(0, 1, want({ weight_decay: 0.3, frac_train: 0.3, lr: 0.01 }));
  await medianIs(1, 0, want({ weight_decay: 0.3, frac_train: 0.5, lr: 0.001 }));
  // y = lr, where x is: the two swap.
  await page.getByTestId("phase-axis-y").selectOption("lr");
  await page.getByTestId("phase-held-weight_decay").waitFor();
  assert.equal(await page.getByTestId("phase-axis-x").inputValue(), "frac_train");
  await medianIs(1, 0, want({ weight_decay: 0.3, frac_train: 0.3, lr: 0.01 }));
});
