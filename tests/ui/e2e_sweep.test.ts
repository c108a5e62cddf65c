// The sweep page in a real browser, against a sweep written by hand (tests/server/sweep_fixture.ts:
// weight_decay 0.3, 1 × frac_train 0.3, 0.5 × 3 seeds, each member reaching test accuracy 1 at a
// step the fixture sets): the members table's outcomes, the phase diagram's medians and hover
// spread, computed here from the fixture's numbers; a member landing late updates the table and its
// cell live; clicking a cell overlays its members and opens them in the run views.
import * as assert from "node:assert/strict";
import { browserTest, SHOTS, until } from "./browser.ts";
import { MEMBERS, REACHED, SWEEP, writeMember, writeSweep } from "../server/sweep_fixture.ts";

/** The members of a cell: row = frac_train's index, column = weight_decay's (plan order). */
function cellMembers(row: number, column: number): number[] {
  return [0, 1, 2].map((seed) => column * 6 + row * 3 + seed);
}

/** Median of three, never (null) counting as later than any step. */
function median3(values: (number | null)[]): number {
  const s = values.map((v) => v ?? Infinity).sort((a, b) => a - b);
  return s[1]!;
}

browserTest(
  "sweep page: members table, phase diagram medians and spread, live, and a cell's members opened",
  {
    viewport: { width: 1400, height: 1200 },
    // Every member but the last lands before the page opens.
    setup: (runs) => writeSweep(runs, MEMBERS.map((_, i) => i).slice(0, 11)),
  },
  async ({ page, runs }) => {
    await page.getByTestId(`sweep-summary-${SWEEP}`).waitFor();
    assert.match(
      await page.getByTestId(`sweep-summary-${SWEEP}`).innerText(),
      /smoke, weight_decay × frac_train × 3 seeds: 11 of 12 landed, 11 done/,
    );
    await page.getByTestId(`sweep-open-${SWEEP}`).click();
    await page.getByTestId("sweep-table").waitFor();

    // The table: each landed member's step to 0.99 (or never, by its last step 400).
    for (const [i, m] of MEMBERS.entries()) {
      const text = await page.getByTestId(`sweep-reached-${m.name}`).innerText();
      const want = i === 11 ? "–" : REACHED[i] === null ? "never (by 400)" : String(REACHED[i]);
      assert.equal(text, want, m.name);
    }
    const row0 = await page.getByTestId(`sweep-row-${MEMBERS[0]!.name}`).innerText();
    assert.match(row0, /^000_\S+\s+0\.3\s+0\.3\s+0\s+done\s+300\s+0\.00249\s+0\.0100\s+1\.00$/);

    // The diagram: rows frac_train 0.3, 0.5; columns weight_decay 0.3, 1.
    const median = async (r: number, c: number) =>
      Number(await page.getByTestId(`phase-cell-${r}-${c}`).getAttribute("data-median"));
    for (const [r, c] of [[0, 0], [1, 0], [0, 1]] as const) {
      const want = median3(cellMembers(r, c).map((i) => REACHED[i]!));
      assert.equal(await median(r, c), want, `cell ${r},${c}`);
    }
    assert.equal(await median(0, 0), 200); // the fixture's hand-worked value, as a cross-check
    assert.equal(await median(0, 1), Infinity);
    assert.match(await page.getByTestId("phase-cell-0-1").getAttribute("class") ?? "", /never/);
    // Cell (1, 1) has two of three: 200 and never, so never.
    assert.equal(await median(1, 1), Infinity);

    // Hover: median, quartiles (of three sorted values a ≤ b ≤ c: (a+b)/2 and (b+c)/2) and range.
    await page.getByTestId("phase-cell-0-0").hover();
    const [a, b, c] = cellMembers(0, 0).map((i) => REACHED[i]!).sort((x, y) => x - y) as [
      number,
      number,
      number,
    ];
    assert.equal(
      await page.getByTestId("phase-hover").innerText(),
      `weight_decay=0.3 frac_train=0.3: median ${b}, IQR ${(a + b) / 2}–${(b + c) / 2}, ` +
        `range ${a}–${c}; 0 of 3 never`,
    );
    await page.getByTestId("phase-cell-0-1").hover();
    assert.match(
      await page.getByTestId("phase-hover").innerText(),
      /median never, .*; 2 of 3 never/,
    );
    await page.screenshot({ path: `${SHOTS}sweep_1_diagram.png`, fullPage: true });

    // The last member lands (a shard elsewhere): partway first, then whole; the page follows.
    const last = MEMBERS[11]!.name;
    await writeMember(runs, 11, 200);
    await until(
      "the late member's row",
      async () =>
        (await page.getByTestId(`sweep-reached-${last}`).innerText()) === "never (by 200)",
    );
    assert.match(await page.getByTestId(`sweep-row-${last}`).innerText(), /\srunning\s/);
    await writeMember(runs, 11);
    await until(
      "the late member generalised",
      async () => (await page.getByTestId(`sweep-reached-${last}`).innerText()) === "400",
    );
    await until(
      "its cell's median",
      async () => (await median(1, 1)) === median3([200, null, 400]),
    );

    // A cell's members: overlaid, and checked in the run views (their curves charted by name).
    await page.getByTestId("phase-cell-1-0").click();
    await until(
      "the cell's curves",
      async () => (await page.getByTestId("cell-curves").getAttribute("data-members")) === "3",
    );
    assert.equal(await page.getByTestId("cell-chart").getAttribute("data-points"), "5");
    for (const i of cellMembers(1, 0)) {
      const run = `${SWEEP}/${MEMBERS[i]!.name}`;
      await until(
        `${run} in the accuracy chart`,
        async () => (await page.getByTestId("acc-chart").innerText()).includes(run),
      );
    }
    assert.equal(await page.getByTestId("acc-chart").getAttribute("data-points"), "5");
    // The config diff reads the members' configs (the fixture gives them the same one).
    await until(
      "the members' config diff",
      async () => (await page.locator(".panels").innerText()).includes("the same config"),
    );
    await page.screenshot({ path: `${SHOTS}sweep_2_cell.png`, fullPage: true });
  },
);
