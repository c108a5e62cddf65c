// The sweep page while a real `mechlab sweep` trains (two smoke members, 40 steps each, on this
// machine's CPU): the sweep appears, a member's row follows its metrics as they are written, and at
// the end the table and the diagram hold what the members' own metrics.jsonl say, read here.
import * as assert from "node:assert/strict";
import { browserTest, SHOTS, until } from "./browser.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** First step with test accuracy >= 0.99 (null: never), and the last line, from a members' file. */
async function outcomeOf(path: string) {
  const lines = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
  const hit = lines.find((l) => l["test/acc"] >= 0.99);
  return { reached: hit === undefined ? null : hit.step as number, last: lines.at(-1) };
}

browserTest(
  "sweep page: live while `mechlab sweep` trains, then the members' own outcomes",
  {},
  async ({ page, runs }) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "sweep",
        "--preset=smoke",
        "--grid=weight_decay=0.3,1",
        "--steps=40",
        "--eval-every=10",
        "--checkpoint-every=40",
        `--out=${runs}`,
        "--name=live",
      ],
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await page.getByTestId("sweep-open-live").click();
      await page.getByTestId("sweep-table").waitFor();
      const first = "000_weight_decay-0.3";
      const cell = page.getByTestId(`sweep-reached-${first}`);
      // The first member's last evaluated step, as the table says it, grows while it trains.
      const seen = new Set<string>();
      await until("the first member's row to follow its training", async () => {
        const m = (await cell.innerText()).match(/never \(by (\d+)\)|^\d+$/);
        if (m !== null) seen.add(m[0]);
        return seen.size >= 2;
      });
      await page.screenshot({ path: `${SHOTS}sweep_live.png`, fullPage: true });
      const { code, stderr } = await child.output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));

      for (const [j, name] of [first, "001_weight_decay-1"].entries()) {
        const { reached, last } = await outcomeOf(`${runs}/live/${name}/metrics.jsonl`);
        const want = reached === null ? `never (by ${last.step})` : String(reached);
        await until(
          `${name}'s outcome`,
          async () => (await page.getByTestId(`sweep-reached-${name}`).innerText()) === want,
        );
        const row = await page.getByTestId(`sweep-row-${name}`).innerText();
        assert.ok(row.includes(last["train/loss"].toPrecision(3)), `${row} train loss`);
        assert.ok(row.includes(last["test/acc"].toPrecision(3)), `${row} test acc`);
        // One seed: a cell's median is its member's step (never: Infinity).
        const median = await page.getByTestId(`phase-cell-0-${j}`).getAttribute("data-median");
        assert.equal(Number(median), reached ?? Infinity);
      }
      await until(
        "both done",
        async () =>
          /2 of 2 landed, 2 done/.test(await page.getByTestId("sweep-summary-live").innerText()),
      );
    } finally {
      try {
        child.kill();
      } catch {
        // already ended
      }
    }
  },
);
