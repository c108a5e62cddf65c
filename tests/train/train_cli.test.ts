// `mechlab train` as a person uses it: --help lists every flag with its default; bad input is one
// line naming the problem and a non-zero exit, and leaves existing runs alone.
import * as assert from "node:assert/strict";
import {
  openRunFolder,
  readSafetensors,
  type RunConfig,
  type RunFolder,
} from "../../engine/runs/mod.ts";
import { startRun } from "../../engine/train/run.ts";
import { listDir, mechlab, withTempDir } from "../helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test("train --help: every flag with its default", async () => {
  const { code, out } = await mechlab("train", "--help");
  assert.equal(code, 0);
  for (
    const flag of [
      "preset",
      "task",
      "op",
      "p",
      "frac-train",
      "data-seed",
      "holdout1",
      "k3",
      "d-model",
    ]
  ) {
    assert.match(out, new RegExp(`^  --${flag} `, "m"), flag);
  }
  assert.match(out, /--lr +AdamW learning rate \(default 0\.001\)/);
  assert.match(out, /--weight-decay +AdamW decay \(default 1\)/);
  assert.match(out, /--p +the modulus \(prime for div\) \(default 113\)/);
});

Deno.test("train: bad input is one line naming the problem, exit code 2, and no folder", async () => {
  const parent = await Deno.makeTempDir();
  const file = `${parent}/a_file`;
  await Deno.writeTextFile(file, "");
  try {
    // Each with --out: a run that fails before its first step leaves no folder there.
    const cases: [string[], RegExp][] = [
      [["--preset", "fast"], /^mechlab: unknown preset 'fast' \(grokking, oocl, smoke\b.*\)$/],
      [["--task", "sorting"], /^mechlab: unknown task 'sorting' \(modular, oocl\b.*\)$/],
      [["--op", "pow"], /^mechlab: --op pow: unknown op; known ops: add, sub, mul, div, ssq/],
      [["--op", "div", "--p", "12"], /^mechlab: --p 12: op div needs a prime p$/],
      [["--frac-train", "1.5"], /^mechlab: --frac-train 1\.5: must be strictly between 0 and 1$/],
      [["--frac-train", "x"], /^mechlab: --frac-train x: not a number$/],
      [["--d-model", "130"], /^mechlab: d_model 130 is not divisible by n_heads 4; give d_head/],
      [["--steps", "2.5"], /^mechlab: --steps 2\.5: not an integer$/],
      [["--device", "tpu"], /^mechlab: --device tpu: expected auto, gpu or cpu$/],
      [
        ["--preset", "smoke", "--out", `${file}/runs`],
        /^mechlab: cannot create runs folder .*a_file\/runs: Not a directory/,
      ],
      [["--resume", `${parent}/nothing`], /^mechlab: run folder .*\/nothing not found$/],
      [["--resume", parent, "--lr", "1"], /^mechlab: --resume takes its configuration/],
      [["--resume", parent, "--name", "x"], /^mechlab: --resume takes its configuration/],
      [["--steps", "-5"], /^mechlab: steps must be an integer in \[1, 4294967295\], got -5$/],
      [["--trainable-biases", "foo"], /^mechlab: trainable_biases must be all or mlp, got foo$/],
      [["--n-heads", "0"], /^mechlab: n_heads must be a positive integer, got 0$/],
      [["--d-model", "1000000", "--device", "cpu"], /^mechlab: the run needs about .*d_model/],
      [["--batch-size", "1000000000", "--device", "cpu"], /^mechlab: .*batch_size 1000000000/],
    ];
    for (const [args, message] of cases) {
      const out = args.includes("--resume") ? [] : ["--out", `${parent}/runs`];
      const { code, err } = await mechlab("train", ...out, ...args);
      assert.equal(code, 2, `${args.join(" ")}: ${err}`);
      const lines = err.split("\n").filter((l) =>
        l.trim() !== "" && !l.includes("XDG_RUNTIME") && !l.startsWith("Check ")
      );
      assert.equal(lines.length, 1, `${args.join(" ")}: ${err}`);
      assert.match(lines[0]!, message, args.join(" "));
      assert.deepEqual(await listDir(parent), ["a_file"], `${args.join(" ")}: no folder`);
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("train: an existing run is kept without --force; a corrupt checkpoint is named", async () => {
  const parent = await Deno.makeTempDir();
  try {
    const run = `${parent}/modular_add_7`;
    await Deno.mkdir(`${run}/checkpoints`, { recursive: true });
    await Deno.writeTextFile(`${run}/metrics.jsonl`, '{"step":0}\n');
    const tinyRun = ["--preset", "smoke", "--p", "7", "--steps", "2", "--out", parent];
    const named = ["--name", "modular_add_7", "--device", "cpu"];
    const exists = await mechlab("train", ...tinyRun, ...named);
    assert.notEqual(exists.code, 0);
    assert.match(exists.err, /exists; pass --force to overwrite/);
    assert.equal(await Deno.readTextFile(`${run}/metrics.jsonl`), '{"step":0}\n', "untouched");
    // Without --name, the default name takes the next free suffix and both runs are kept.
    const second = await mechlab("train", ...tinyRun, "--device", "cpu");
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /run folder: .*modular_add_7-2$/m);
    assert.equal(await Deno.readTextFile(`${run}/metrics.jsonl`), '{"step":0}\n', "untouched");

    const ok = await mechlab("train", ...tinyRun, "--device", "cpu", "--force");
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /run folder: .*modular_add_7/);
    await Deno.writeTextFile(`${run}/checkpoints/optimizer.safetensors`, "not a checkpoint");
    const corrupt = await mechlab("train", "--resume", run, "--device", "cpu");
    assert.notEqual(corrupt.code, 0);
    assert.match(corrupt.err, /^mechlab: .*optimizer\.safetensors.*corrupt safetensors/m);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test({
  name: "train: Ctrl-C stops after the current step with a checkpoint; resumed, bitwise whole",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTempDir(async (parent) => {
      // One evaluation and one checkpoint at the end: any stop before it is between them.
      const steps = ["--steps", "200", "--eval-every", "200", "--checkpoint-every", "200"];
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          MAIN,
          "train",
          "--preset",
          "smoke",
          "--p",
          "11",
          "--d-model",
          "32",
          "--d-mlp",
          "128",
          ...steps,
        ]
          .concat(["--device", "cpu", "--out", parent, "--name", "cut"]),
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!/^step 0\/200/m.test(out)) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      // Twice, as an impatient person would: the second must not cost the checkpoint.
      child.kill("SIGINT");
      child.kill("SIGINT");
      for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
      const status = await child.status;
      const err = await new Response(child.stderr).text();
      assert.equal(status.code, 130, out + err);
      const at = Number(
        /^stopped early at step (\d+) of 200, with a checkpoint there$/m.exec(out)?.[1],
      );
      assert.ok(at >= 0 && at < 200, `stopped at step ${at}: ${out}`);
      assert.match(out, /^continue it: .*train --resume .*cut$/m);
      const cut = await openRunFolder(`${parent}/cut`);
      for (const file of [cut.finalPath(), `${parent}/cut/checkpoints/optimizer.safetensors`]) {
        assert.equal((await readSafetensors(file)).metadata.step, String(at), file);
      }

      const resumed = await mechlab("train", "--resume", cut.path, "--device", "cpu");
      assert.equal(resumed.code, 0, resumed.err);
      assert.doesNotMatch(resumed.out, /stopped early/);
      assert.match(resumed.out, /^ {2}deno .*analyze --run .*cut /m);
      const config = await cut.readJson<RunConfig>("config.json");
      const whole = await startRun(config, { parent, name: "whole", force: false }, {
        device: "cpu",
      });
      const [a, b] = await Promise.all([whole, cut].map((f) => readSafetensors(f.finalPath())));
      for (const [name, t] of a!.tensors) {
        assert.deepEqual(b!.tensors.get(name)!.data, t.data, name);
      }
      const lines = async (f: RunFolder) => (await f.readMetrics()).map(({ time_s: _, ...m }) => m);
      assert.deepEqual(await lines(cut), await lines(whole));
    }),
});
