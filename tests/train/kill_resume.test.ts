// A `train` killed with SIGKILL at any moment leaves either no run folder (killed before its
// step-0 checkpoint gave the folder its name: the same command starts it again) or one that
// `--resume` finishes, bitwise equal to the run never interrupted. The moments: at once after the
// start, once the config is printed, at the first evaluation, and after seeded random evaluation
// steps and delays.
import * as assert from "node:assert/strict";
import { readSafetensors } from "../../engine/runs/mod.ts";
import { Rng } from "../../engine/tensor/mod.ts";
import { listDir, mechlab, withTempDir } from "../helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const STEPS = 300;
/** p = 7, width 8: 300 CPU steps in a second or two; evaluations and checkpoints interleave. */
const TINY = ["--preset", "smoke", "--p", "7", "--steps", String(STEPS), "--eval-every", "10"]
  .concat(["--checkpoint-every", "40", "--d-model", "8", "--n-heads", "2", "--d-mlp", "16"])
  .concat(["--device", "cpu"]);

/** When to kill: at a printed line matching `line`, or `delayMs` after the start. */
type Moment = { what: string; line?: RegExp; delayMs?: number };

const rng = new Rng(28); // steps 30, 160, 210; 304 and 753 ms: early and late
const draw = (n: number) => Math.floor(rng.uniform() * n);
const MOMENTS: Moment[] = [
  { what: "at once", delayMs: 0 },
  { what: "once the config is printed", line: /^\s+train\s/m },
  { what: "at step 0", line: /^step 0\//m }, // only the step-0 checkpoint to resume from
  ...[0, 1, 2].map((): Moment => {
    const step = draw(STEPS / 10) * 10;
    return { what: `at step ${step}`, line: new RegExp(`^step ${step}/`, "m") };
  }),
  ...[0, 1].map((): Moment => {
    const ms = 200 + draw(1500);
    return { what: `${ms} ms after the start`, delayMs: ms };
  }),
];

/** Starts `mechlab train`, kills it with SIGKILL at `moment`, and waits for it to end. */
async function trainKilled(parent: string, moment: Moment): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "train", ...TINY, "--out", parent, "--name", "k"],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already ended: killed after the end is a moment too
    }
  };
  const timer = moment.delayMs === undefined ? undefined : setTimeout(kill, moment.delayMs);
  let out = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    out += r.value;
    if (moment.line?.test(out)) kill();
  }
  clearTimeout(timer);
  await child.status;
}

/** Every tensor of the final checkpoint, and the metrics without their times. */
async function result(run: string) {
  const final = await readSafetensors(`${run}/checkpoints/final.safetensors`);
  const metrics = (await Deno.readTextFile(`${run}/metrics.jsonl`)).trim().split("\n")
    .map((l) => {
      const { time_s: _, ...m } = JSON.parse(l);
      return m;
    });
  return { tensors: [...final.tensors].map(([n, t]) => [n, t.data]), metrics };
}

Deno.test("train: killed (SIGKILL) at any moment, then resumed or restarted: bitwise the whole run", async () => {
  await withTempDir(async (dir) => {
    const whole = await mechlab("train", ...TINY, "--out", dir, "--name", "whole");
    assert.equal(whole.code, 0, whole.err);
    const expected = await result(`${dir}/whole`);
    const seen = new Set<string>();
    for (const [i, moment] of MOMENTS.entries()) {
      const parent = `${dir}/kill${i}`;
      await Deno.mkdir(parent);
      await trainKilled(parent, moment);
      const named = (await listDir(parent)).filter((n) => !n.startsWith("."));
      seen.add(named.length === 0 ? "restarted" : "resumed");
      console.log(`killed ${moment.what}: ${named.length === 0 ? "restarted" : "resumed"}`);
      // Either no folder has the name yet, or it is a whole run folder that can be resumed.
      const again = named.length === 0
        ? await mechlab("train", ...TINY, "--out", parent, "--name", "k")
        : await mechlab("train", "--resume", `${parent}/k`, "--device", "cpu");
      assert.equal(again.code, 0, `${moment.what}: ${again.err}`);
      assert.deepEqual(await result(`${parent}/k`), expected, moment.what);
      // A start killed before its rename left a hidden folder; the next start removed it.
      const left = (await listDir(parent)).filter((n) => n !== "k" && !n.startsWith(".mechlab"));
      assert.deepEqual(left, [], `${moment.what}: nothing but the run is left`);
    }
    // "At once" kills before the folder is named, a step after: both recoveries were tried.
    assert.deepEqual([...seen].sort(), ["restarted", "resumed"]);
  });
});
