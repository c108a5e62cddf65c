// Every flag of `mechlab train` with a bad value: a UsageError (exit code 2, see
// tests/train/train_cli.test.ts for the exit codes of whole processes) of one line naming the flag
// (as `--flag` or as its config key), and no run folder left behind. In-process, so the table can
// hold every flag; the same validators serve the server's launches (tests/server/launch_args).
import * as assert from "node:assert/strict";
import { UsageError } from "../../cli/errors.ts";
import { train } from "../../cli/train.ts";
import { listDir, withTempDir } from "../helpers.ts";

/** Flag, bad value, and what the one line must say (the flag's name is asked for besides). */
const CASES: [string, string, RegExp][] = [
  ["preset", "fast", /unknown preset 'fast'/],
  ["task", "sorting", /unknown task 'sorting'/],
  ["op", "pow", /unknown op/],
  ["p", "1", /must be an integer from 2 to/],
  ["p", "0x10", /not an integer/],
  ["frac-train", "1.5", /strictly between 0 and 1/],
  ["data-seed", "1.5", /not an integer/],
  ["holdout1", "1", /strictly between 0 and 1/],
  ["holdout2", "0", /strictly between 0 and 1/],
  ["k1", "-1", /must be a finite number >= 0/],
  ["k2", "nan", /not a number/],
  ["k3", "-2", /must be a finite number >= 0/],
  ["symmetric-holdout", "=yes", /does not take an argument/],
  ["n-tokens", "1", /must be an integer from 2 to/],
  ["seq-len", "512", /must be an integer from 1 to 511/],
  ["n-seqs", "x", /not an integer/],
  ["max-len", "7", /must be even/],
  ["n-examples", "3", /must be an integer from 4 to/],
  ["alphabet", "aa", /must be 2 to 26 distinct letters or digits/],
  ["regex", "(ab", /Invalid regular expression/],
  ["data", "/nonexistent/corpus.txt", /cannot read it/],
  ["n-ctx", "0", /must be an integer from 1 to 1024/],
  ["stride", "0", /must be an integer from 1 to/],
  ["n-layers", "0", /must be a positive integer, got 0/],
  ["d-model", "0", /must be a positive integer, got 0/],
  ["d-model", "1000000", /needs about \d+ GB of memory .* free here/],
  ["n-heads", "0", /must be a positive integer, got 0/],
  ["d-head", "-4", /must be a positive integer, got -4/],
  ["d-mlp", "0", /must be a positive integer, got 0/],
  ["d-mlp", "5000000", /needs about \d+ GB of memory .* free here/],
  ["act-fn", "tanh", /must be relu, gelu or gelu_new, got tanh/],
  ["normalization-type", "BN", /must be LN, LNPre or null, got BN/],
  ["attn-only", "=no", /does not take an argument/],
  ["initializer-range", "0", /must be positive, got 0/],
  ["trainable-biases", "foo", /must be all or mlp, got foo/],
  ["seed", "-1", /must be an integer from 0 to 2\^53 - 1, got -1/],
  ["steps", "-5", /must be an integer in \[1, 4294967295\], got -5/],
  ["steps", "2.5", /not an integer/],
  ["lr", "0", /must be positive, got 0/],
  ["lr", "0x10", /not a number/],
  ["weight-decay", "-1", /must be non-negative, got -1/],
  ["beta1", "1", /must be in \[0, 1\), got 1/],
  ["beta2", "-0.5", /must be in \[0, 1\), got -0.5/],
  ["warmup-steps", "-1", /must be an integer in \[0, /],
  ["schedule", "linear", /must be constant or cosine, got linear/],
  ["min-lr", "-1", /must be non-negative/],
  ["grad-clip", "-1", /must be non-negative/],
  ["batch-size", "-1", /must be an integer in \[0, /],
  ["batch-size", "1000000000", /needs about \d+ GB of memory .* free here/],
  ["eval-every", "0", /must be an integer in \[1, /],
  ["checkpoint-every", "0", /must be an integer in \[1, /],
  ["grokfast-alpha", "1", /must be in \[0, 1\), got 1/],
  ["grokfast-lambda", "-2", /must be non-negative \(0: Grokfast off\), got -2/],
  ["name", "../x", /run name "\.\.\/x"/],
  ["force", "=yes", /does not take an argument/],
  ["device", "tpu", /expected auto, gpu or cpu/],
];

/** The task each task-specific flag is given with (oocl's are found by name below). */
const TASK_OF: Record<string, string> = {
  "max-len": "brackets",
  "n-examples": "brackets",
  alphabet: "strings",
  regex: "strings",
  data: "text",
  "n-ctx": "text",
  stride: "text",
  "n-tokens": "induction",
  "seq-len": "induction",
  "n-seqs": "induction",
};

/** The flag as named in a message: `--d-model` or `d_model`. */
function named(flag: string): RegExp {
  const key = flag.replaceAll("-", "_").replace(/^name$/, "run name");
  return new RegExp(`--${flag}\\b|\\b${key}\\b`);
}

Deno.test("train: every flag's bad value is one line naming it, and leaves no folder", async () => {
  const log = console.log;
  console.log = () => {}; // the resolved configuration printed before a late refusal
  try {
    for (const [flag, value, message] of CASES) {
      await withTempDir(async (parent) => {
        const given = value.startsWith("=") ? [`--${flag}${value}`] : [`--${flag}`, value];
        const taskName = /^(holdout|k\d|symmetric)/.test(flag) ? "oocl" : TASK_OF[flag];
        const task = taskName === undefined ? [] : ["--task", taskName];
        const base = flag === "preset" ? [] : ["--preset", "smoke"];
        const args = [...base, ...task, "--device", "cpu", "--out", parent, ...given];
        const err = await train(args).then(() => undefined, (e: Error) => e);
        const what = args.join(" ");
        assert.ok(err instanceof UsageError, `${what}: ${err}`);
        assert.doesNotMatch(err.message, /\n/, what);
        assert.match(err.message, message, what);
        assert.match(err.message, named(flag), what);
        assert.deepEqual(await listDir(parent), [], `${what}: no folder`);
      });
    }
  } finally {
    console.log = log;
  }
});

Deno.test("train: a flag of another task than the run's is refused in one line", async () => {
  const err = await train(["--preset", "smoke", "--max-len", "8"]).then(() => undefined, (e) => e);
  assert.ok(err instanceof UsageError);
  assert.equal(err.message, "--max-len: not a setting of task modular");
});

Deno.test("train: a cosine schedule with no steps after its warmup is refused in one line", async () => {
  await withTempDir(async (parent) => {
    const args = ["--preset", "smoke", "--schedule", "cosine", "--steps", "10", "--out", parent];
    const err = await train([...args, "--warmup-steps", "10"]).then(() => undefined, (e) => e);
    assert.ok(err instanceof UsageError);
    assert.equal(
      err.message,
      "schedule cosine needs steps > warmup_steps, got steps 10 and warmup_steps 10",
    );
    assert.deepEqual(await listDir(parent), []);
  });
});
