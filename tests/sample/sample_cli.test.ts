// `mechlab sample` on a tiny smoke run trained on the CPU (p = 7: every label one character, so
// its prompt is written "35="): the answer is the float64 reference forward's argmax on the
// checkpoint, --json's fields, seeded draws reproducible, and bad input refused in one line.
import * as assert from "node:assert/strict";
import { mechlab } from "../helpers.ts";
import { argmax, referenceLogits, trainTiny } from "./sample_helpers.ts";

Deno.test("cli sample: greedy answers are the reference's, --json, seeds, bad input", async () => {
  const runs = await Deno.makeTempDir();
  try {
    const run = await trainTiny(runs);
    for (const step of [0, 20]) {
      const { code, out, err } = await mechlab(
        ...["sample", "--run", run, "--step", String(step), "--prompt", "35=", "--json"],
      );
      assert.equal(code, 0, err);
      const answer = argmax(await referenceLogits(run, step, [3, 5, 7]));
      assert.deepEqual(JSON.parse(out), {
        prompt_tokens: [3, 5, 7],
        new_tokens: [answer],
        text: String(answer),
      });
    }
    // Plain output: the continuation's text; the last checkpoint by default.
    const plain = await mechlab("sample", "--run", run, "--prompt", "35=");
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.out, `${argmax(await referenceLogits(run, 20, [3, 5, 7]))}\n`);
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
