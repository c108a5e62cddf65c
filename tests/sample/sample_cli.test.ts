// `mechlab sample` on a tiny smoke run trained on the CPU (p = 7: every label one character, so
// its prompt is written "35="): the answer is the float64 reference forward's argmax on the
// checkpoint, --json's fields, seeded draws reproducible, and bad input refused in one line.
import * as assert from "node:assert/strict";
import { openAnalysisRun } from "../../engine/analysis/run_data.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { unflatten } from "../../engine/model/params.ts";
import { readCheckpointParams } from "../../engine/runs/checkpoint.ts";
import { mechlab } from "../helpers.ts";

/** A run `t` of the smoke preset made tiny (p = 7, an 8-wide model), checkpoints at 0 and 20. */
async function trainTiny(runs: string): Promise<string> {
  const train = await mechlab(
    ...["train", "--preset=smoke", "--p=7", "--d-model=8", "--n-heads=2", "--d-head=4"],
    ...["--d-mlp=16", "--steps=20", "--eval-every=10", "--checkpoint-every=20", "--device=cpu"],
    `--out=${runs}`,
    "--name=t",
  );
  assert.equal(train.code, 0, train.err);
  return `${runs}/t`;
}

/** The reference forward's argmax after `tokens` at the checkpoint of `step`. */
async function referenceArgmax(run: string, step: number, tokens: number[]): Promise<number> {
  const opened = await openAnalysisRun(run);
  const path = opened.checkpoints.find((c) => c.step === step)!.path;
  const { params } = await readCheckpointParams(path, opened.layout);
  const cfg = opened.config.model;
  const { data } = cpuForward(cfg, unflatten(opened.layout, params), Int32Array.from(tokens), 1)
    .logits;
  const last = Array.from(data.subarray((tokens.length - 1) * cfg.d_vocab_out));
  return last.indexOf(Math.max(...last));
}

Deno.test("cli sample: greedy answers are the reference's, --json, seeds, bad input", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const run = await trainTiny(runs);
    for (const step of [0, 20]) {
      const { code, out, err } = await mechlab(
        ...["sample", "--run", run, "--step", String(step), "--prompt", "35=", "--json"],
      );
      assert.equal(code, 0, err);
      const answer = await referenceArgmax(run, step, [3, 5, 7]);
      assert.deepEqual(JSON.parse(out), {
        prompt_tokens: [3, 5, 7],
        new_tokens: [answer],
        text: String(answer),
      });
    }
    // Plain output: the continuation's text; the last checkpoint by default.
    const plain = await mechlab("sample", "--run", run, "--prompt", "35=");
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.out, `${await referenceArgmax(run, 20, [3, 5, 7])}\n`);
    // Drawn at temperature 3: the same seed, the same tokens. "3" and three new tokens read the
    // 3 positions n_ctx allows (the last new token is only predicted).
    const hot = ["sample", "--run", run, "--prompt", "3", "--max-new-tokens", "3", "--json"];
    const draw = (seed: string) => mechlab(...hot, "--temperature", "3", "--seed", seed);
    const [a, b] = [await draw("1"), await draw("1")];
    assert.equal(a.code, 0, a.err);
    assert.equal(a.out, b.out);
    assert.equal(JSON.parse(a.out).new_tokens.length, 3);
    for (
      const [args, message] of [
        [["--prompt", "35="], "mechlab: --run is required: the run folder"],
        [["--run", run], "mechlab: --prompt is required: the text to continue"],
        [
          ["--run", run, "--prompt", "3x"],
          `mechlab: --prompt: character "x" (at 1) is not in the vocabulary`,
        ],
        [
          ["--run", run, "--prompt", "35=", "--max-new-tokens", "2"],
          "mechlab: a prompt of 3 tokens and 2 new tokens needs 4 positions, more than n_ctx 3",
        ],
        [
          ["--run", run, "--prompt", "3", "--temperature", "-1"],
          "mechlab: temperature -1: expected a number >= 0",
        ],
        [
          ["--run", run, "--prompt", "3", "--top-p", "2"],
          "mechlab: top-p 2: expected a number in (0, 1]",
        ],
        [["--run", run, "--prompt", "3", "--top-k", "1.5"], "mechlab: --top-k 1.5: not an integer"],
        [
          ["--run", run, "--prompt", "3", "--step", "7"],
          "mechlab: no checkpoint at step 7; there are 0, 20",
        ],
        [
          ["--run", run, "--prompt", "3", "--device", "tpu"],
          "mechlab: --device tpu: expected cpu or gpu",
        ],
        [["--run", `${runs}/none`, "--prompt", "3"], undefined],
      ] as const
    ) {
      const { code, err } = await mechlab("sample", ...args);
      assert.equal(code, 2, `${args.join(" ")}: ${err}`);
      assert.equal(err.trim().split("\n").length, 1, err);
      if (message !== undefined) assert.equal(err.trim(), message);
    }
  } finally {
    await Deno.remove(runs, { recursive: true });
  }
});
