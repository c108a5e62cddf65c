// `mechlab sweep` end to end on the CPU path: a 2×2 smoke-preset sweep whose member folders are
// the runs `train` gives with the same flags (config, split, metrics, final weights bit for bit);
// Ctrl-C stops the member training with its checkpoint and starts no other, and `--resume`
// finishes the sweep to the same members as an uninterrupted one.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { sweep } from "../../cli/sweep.ts";
import { train } from "../../cli/train.ts";
import { openRunFolder, readSafetensors } from "../../engine/runs/mod.ts";
import { readSweep } from "../../engine/sweep/mod.ts";
import { listDir, withTempDir } from "../helpers.ts";
import { TINY } from "./sweep_helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** `fn` with console.log silenced (the runs' progress lines). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** A run folder's config, split, metrics without their times, and final weights. */
async function contents(path: string) {
  const folder = await openRunFolder(path);
  const final = await readSafetensors(folder.finalPath());
  return {
    config: await folder.readJson("config.json"),
    split: await folder.readJson("split.json"),
    metrics: (await folder.readMetrics()).map(({ time_s: _, ...m }) => m),
    checkpoints: (await folder.listCheckpoints()).map((c) => c.step),
    weights: [...final.tensors].map(([name, t]) => [name, t.data]),
  };
}

Deno.test({
  name: "sweep: a 2×2 grid's members are the solo train runs of the same flags",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTempDir(async (dir) => {
      const common = [...TINY, "--steps", "30", "--eval-every", "10", "--checkpoint-every", "10"];
      const grid = "weight_decay=0.3,1 frac_train=0.3,0.6";
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => lines.push(a.join(" "));
      try {
        await sweep([...common, "--grid", grid, "--out", dir, "--name", "s"]);
      } finally {
        console.log = log;
      }
      // The closing table: a row per member, its values and outcome (30 steps: none groks).
      const table = lines.join("\n").split("\n");
      const head = table.findIndex((l) => l.startsWith("values"));
      assert.match(table[head]!, /^values +test acc >= 0.99 at +train loss +test loss +test acc$/);
      assert.match(
        table[head + 4]!,
        /^weight_decay=1 frac_train=0.6 +never \(by 30\) +\d\.\d\de[-+]\d+ /,
      );
      const sweepDir = join(dir, "s");
      const file = await readSweep(sweepDir);
      assert.deepEqual(file.members.map((m) => m.name), [
        "000_weight_decay-0.3_frac_train-0.3",
        "001_weight_decay-0.3_frac_train-0.6",
        "002_weight_decay-1_frac_train-0.3",
        "003_weight_decay-1_frac_train-0.6",
      ]);
      assert.deepEqual(Object.values(file.status), ["done", "done", "done", "done"]);
      assert.deepEqual(file.members.map((m) => m.group), [0, 0, 0, 0], "one shape");
      assert.deepEqual(file.axes.map((a) => [a.key, a.values]), [
        ["weight_decay", [0.3, 1]],
        ["frac_train", [0.3, 0.6]],
      ]);
      const solo = join(dir, "solo");
      for (const m of file.members) {
        const flags = ["--weight-decay", String(m.values.weight_decay)];
        flags.push("--frac-train", String(m.values.frac_train));
        await quietly(() =>
          train([
            ...common,
            ...flags,
            "--out",
            solo,
            "--name",
            m.name,
          ])
        );
        const [a, b] = [await contents(join(sweepDir, m.name)), await contents(join(solo, m.name))];
        assert.deepEqual(a, b, m.name);
        assert.equal(a.metrics.at(-1)!.step, 30);
      }
      // Distinct members: their test losses differ.
      const losses = await Promise.all(
        file.members.map(async (m) =>
          (await contents(join(sweepDir, m.name))).metrics.at(-1)!["test/loss"]
        ),
      );
      assert.equal(new Set(losses).size, 4, `${losses}`);
      // The same folder with another plan is refused, and left as it was.
      const other = await sweep([
        ...common,
        "--grid",
        "weight_decay=3",
        "--out",
        dir,
        "--name",
        "s",
      ])
        .then(() => undefined, (e: Error) => e);
      assert.equal(
        other?.message,
        `${sweepDir} holds another sweep (its sweep.json differs): continue it with --resume ` +
          `${sweepDir}, or give another --name`,
      );
      assert.deepEqual(await readSweep(sweepDir), file);
    }),
});

Deno.test({
  name: "sweep: Ctrl-C stops the member with a checkpoint, --resume finishes it as uninterrupted",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTempDir(async (dir) => {
      const common = [...TINY, "--steps", "400", "--eval-every", "10", "--checkpoint-every", "100"];
      const args = [...common, "--grid", "weight_decay=0.3,1", "--out", dir, "--name", "s"];
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "sweep", ...args],
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      let out = "";
      let sent = false;
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        out += r.value;
        if (!sent && /step 20\/400/.test(out)) {
          child.kill("SIGINT");
          sent = true;
        }
      }
      const { code } = await child.status;
      assert.equal(code, 130, out);
      assert.match(
        out,
        /stopped: 0 of 2 members finished here, 000_weight_decay-0.3 with a checkpoint/,
      );
      assert.match(out, /continue it: .*sweep --resume /);
      const sweepDir = join(dir, "s");
      const file = await readSweep(sweepDir);
      assert.deepEqual(file.status, {
        "000_weight_decay-0.3": "stopped",
        "001_weight_decay-1": "pending",
      });
      assert.deepEqual(await listDir(sweepDir), [
        "000_weight_decay-0.3",
        "sweep.json",
        "sweep.lock",
      ]);
      const stoppedAt = Number(
        (await readSafetensors(
          join(sweepDir, "000_weight_decay-0.3/checkpoints/final.safetensors"),
        ))
          .metadata.step,
      );
      assert.ok(stoppedAt >= 20 && stoppedAt < 400, `stopped at ${stoppedAt}`);

      // Continued twice: the first finishes both members, the second skips them.
      await quietly(() => sweep(["--resume", sweepDir]));
      assert.deepEqual(Object.values((await readSweep(sweepDir)).status), ["done", "done"]);
      await quietly(() => sweep(["--resume", sweepDir]));
      const solo = join(dir, "solo");
      await quietly(() =>
        train([...common, "--weight-decay", "0.3", "--out", solo, "--name", "a"])
      );
      assert.deepEqual(
        await contents(join(sweepDir, "000_weight_decay-0.3")),
        await contents(join(solo, "a")),
      );
    }),
});
