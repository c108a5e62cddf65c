// The on-demand sequence views on a run held in memory (its checkpoint written to a temp file):
// prompts tokenized by the vocabulary's labels, the hand-built induction model's attention with
// its labels, the logit lens and direct logit attribution at a chosen position against the
// model's own logits there (cpuForward at every position), the loss per position, and patching:
// a sequence patched with its own activations changes nothing, bit for bit.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import type { AnalysisRun } from "../../engine/analysis/run_data.ts";
import { inspectSequence } from "../../engine/analysis/sequence_inspect.ts";
import { resolveSequence } from "../../engine/analysis/sequence_input.ts";
import { patchSequence } from "../../engine/analysis/sequence_patching.ts";
import { logitDiffMetric, patchingSweep } from "../../engine/analysis/patching.ts";
import { IGNORE, type TaskData } from "../../engine/data/mod.ts";
import { cpuRunner } from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { paramLayout } from "../../engine/model/params.ts";
import { encodeSafetensors, RunInputError } from "../../engine/runs/mod.ts";
import type { Tensor } from "../../engine/tensor/mod.ts";
import { withTempDir } from "../helpers.ts";
import { GELU_LN, handBuiltInduction, randomTokens, randomWeights } from "./models.ts";

/** A language-model task over `labels`: `rows` windows, targets the next token, the last unscored. */
function lmTask(cfg: ModelConfig, labels: string[], rows: Int32Array): TaskData {
  const T = cfg.n_ctx;
  const targets = Int32Array.from(rows, (_, i) => i % T === T - 1 ? IGNORE : rows[i + 1]!);
  const N = rows.length / T;
  return {
    task: "induction" as unknown as TaskData["task"], // a sequence task, not yet in TaskData's union
    vocab: { d_vocab: cfg.d_vocab, d_vocab_out: cfg.d_vocab_out, labels },
    n_ctx: T,
    tokens: rows,
    targets,
    groups: [{
      name: "all",
      train: Int32Array.from({ length: N }, (_, i) => i),
      test: new Int32Array(0),
      weight: 1,
    }],
    runName: "lm",
    split: () => ({}),
  };
}

/** `fn` with a run of one checkpoint (step 0) of `weights`, written to a temp folder. */
function withRun<T>(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  task: TaskData,
  fn: (run: AnalysisRun) => Promise<T>,
): Promise<T> {
  return withTempDir(async (dir) => {
    const path = join(dir, "step_000000.safetensors");
    // f32, as checkpoints are: every weight here is f32-exact or rounded the same for both sides
    await Deno.writeFile(path, encodeSafetensors(weights, { step: "0" }));
    const run = {
      name: "lm",
      folder: { path: dir },
      config: { model: cfg, task: { task: "induction" } },
      task,
      layout: paramLayout(cfg),
      checkpoints: [{ step: 0, path }],
    } as unknown as AnalysisRun;
    return await fn(run);
  });
}

/** f32-rounded copies, as the checkpoint holds them. */
function asF32(weights: Map<string, Tensor>): Map<string, Tensor> {
  return new Map([...weights].map(([k, t]) => [k, t.astype("f32").astype("f64")]));
}

const LETTERS = ["a", "b", "c", "d", "e", "f"];

Deno.test("prompts are read by the codec, as generation reads them; bad ones are one line", () => {
  const { cfg } = handBuiltInduction();
  const task = lmTask(cfg, LETTERS, Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3));
  assert.throws(
    () => resolveSequence(task, { prompt: "abx" }),
    /^SequenceInputError: prompt: character "x" \(at 2\) is not in the vocabulary$/,
  );
  // a vocabulary of labels that are not single characters: words split on whitespace
  const words = { ...task, vocab: { ...task.vocab, labels: ["1", "10", "+", "=", "e", "f"] } };
  assert.deepEqual(resolveSequence(words, { prompt: "10 + 1 =" }).ids, Int32Array.of(1, 2, 0, 3));
  const s = resolveSequence(task, { prompt: "abca" });
  assert.deepEqual([s.ids, s.targets, s.from], [
    Int32Array.of(0, 1, 2, 0),
    Int32Array.of(1, 2, 0, IGNORE),
    "next token",
  ]);
  assert.deepEqual(
    resolveSequence(task, { example: 0 }).targets,
    Int32Array.of(1, 2, 3, 0, 1, 2, 3, IGNORE),
  );
  assert.throws(() => resolveSequence(task, { example: 1 }), RunInputError);
  assert.throws(
    () => resolveSequence(task, { prompt: "abcdabcda" }),
    /9 tokens; the model takes 1 to 8/,
  );
  assert.throws(
    () => resolveSequence(task, { example: 0, prompt: "a" }),
    /one of example, tokens or prompt/,
  );
  assert.throws(
    () => resolveSequence(task, { tokens: [0, 6] }),
    /token 6 is outside the vocabulary \[0, 6\)/,
  );
});

Deno.test("the hand-built induction model's attention over a prompt, with its labels", async () => {
  const { cfg, weights } = handBuiltInduction();
  const task = lmTask(cfg, LETTERS, Int32Array.of(0, 1, 2, 3, 0, 1, 2, 3));
  await withRun(cfg, weights, task, async (run) => {
    const r = await inspectSequence(run, 0, { prompt: "badcbadc" }, { pos: 5 });
    assert.deepEqual(r.tokens, ["b", "a", "d", "c", "b", "a", "d", "c"]);
    assert.deepEqual([r.pos, r.target, r.target_from], [5, 3, "next token"]); // "d" follows
    assert.equal(r.patterns.length, 2);
    assert.deepEqual(r.patterns[0]![0]![5], [0, 0, 0, 0, 1, 0, 0, 0]); // L0H0: the previous token
    assert.deepEqual(r.patterns[1]![0]![5], [0, 0, 1, 0, 0, 0, 0, 0]); // L1H0: after the earlier "a"
    assert.deepEqual(r.patterns[0]![1]![2], [1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0, 0]); // uniform, masked after
    // W_U is zero: every logit 0, loss ln 6 wherever a next token is known
    r.loss.forEach((l, t) =>
      t === 7 ? assert.equal(l, null) : assert.ok(Math.abs(l! - Math.log(6)) < 1e-12)
    );
  });
});

Deno.test("logit lens and attribution at a chosen position are the model's logits there", async () => {
  const cfg = { ...GELU_LN, d_vocab: 9 }; // every input id also an output id, so prompts have next tokens
  const weights = asF32(randomWeights(cfg, 21));
  const rows = randomTokens(cfg, 2, cfg.n_ctx, 22);
  const labels = Array.from({ length: 9 }, (_, i) => `t${i}`);
  const task = lmTask(cfg, labels, rows);
  const ids = rows.slice(0, cfg.n_ctx);
  const { logits } = cpuForward(cfg, weights, ids, 1); // [1, T, U]: independent of the hooks
  const U = cfg.d_vocab_out;
  await withRun(cfg, weights, task, async (run) => {
    for (const pos of [1, 3]) {
      const r = await inspectSequence(run, 0, { tokens: Array.from(ids) }, { pos });
      const want = logits.data[pos * U + ids[pos + 1]!]!;
      const sum = r.dla.values.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - want) < 1e-9, `dla sums to ${sum}, the logit is ${want}`);
      assert.ok(Math.abs(r.logit_lens.target_logit.at(-1)! - want) < 1e-9, "the lens' last stage");
      assert.equal(r.target_from, "next token");
    }
    // The last position of a prompt has no next token: the model's own prediction is followed.
    const last = await inspectSequence(run, 0, { tokens: Array.from(ids) });
    const row = Array.from(logits.data.subarray((cfg.n_ctx - 1) * U, cfg.n_ctx * U));
    assert.deepEqual([last.target_from, last.target], [
      "prediction",
      row.indexOf(Math.max(...row)),
    ]);
    assert.equal(last.prediction, last.target);
    // An example reads the task's targets; a given target wins.
    const given = await inspectSequence(run, 0, { example: 1 }, { pos: 2, target: 4 });
    assert.deepEqual([given.example, given.target, given.target_from], [1, 4, "given"]);
    await assert.rejects(
      () => inspectSequence(run, 0, { example: 1 }, { pos: 5 }),
      /pos 5: the sequence has 5 positions/,
    );
    await assert.rejects(
      () => inspectSequence(run, 0, { example: 1 }, { target: 9 }),
      /target 9: outside \[0, 9\)/,
    );
  });
});

Deno.test("patching a sequence with its own activations changes nothing, bit for bit", async () => {
  const cfg = { ...GELU_LN, d_vocab: 9 };
  const weights = asF32(randomWeights(cfg, 31));
  const ids = randomTokens(cfg, 1, cfg.n_ctx, 32);
  const sweep = await patchingSweep(cpuRunner(cfg, weights), cfg, {
    clean: ids,
    corrupt: ids,
    batch: 1,
    metric: logitDiffMetric(Int32Array.of(2), Int32Array.of(5)),
  });
  assert.equal(sweep.corrupt, sweep.clean);
  for (const grid of [sweep.resid_pre, sweep.head_out, sweep.mlp_out]) {
    for (const row of grid) for (const v of row) assert.equal(v, sweep.clean);
  }
  assert.deepEqual([sweep.resid_pre[0]!.length, sweep.head_out[0]!.length], [
    cfg.n_ctx,
    cfg.n_heads,
  ]);
  const task = lmTask(
    cfg,
    Array.from({ length: 9 }, (_, i) => `t${i}`),
    randomTokens(cfg, 3, cfg.n_ctx, 33),
  );
  await withRun(cfg, weights, task, async (run) => {
    const same = await patchSequence(run, {
      step: 0,
      clean: { tokens: Array.from(ids) },
      corrupt: { tokens: Array.from(ids) },
    });
    assert.equal(same.clean_value, same.corrupt_value);
    assert.match(same.metric, /undefined here: the clean and corrupt runs score the same/);
    assert.ok(same.resid_pre.flat().every((v) => v === null));
    // An example patched into its default partner: the next one whose last target differs.
    const r = await patchSequence(run, { step: 0, clean: { example: 0 } });
    assert.equal(r.resid_pre.length, cfg.n_layers);
    assert.equal(r.head_out[0]!.length, cfg.n_heads);
    // The clean run's logit difference, against cpuForward's logits at the final position.
    const T = cfg.n_ctx;
    const U = cfg.d_vocab_out;
    const { logits } = cpuForward(cfg, weights, task.tokens.slice(0, T), 1);
    const want = logits.data[(T - 1) * U + r.clean_answer]! -
      logits.data[(T - 1) * U + r.corrupt_answer]!;
    assert.ok(Math.abs(r.clean_value - want) < 1e-9, `${r.clean_value} vs ${want}`);
    assert.deepEqual(r.corrupt, Array.from(task.tokens.slice(T, 2 * T), (t) => `t${t}`)); // example 1
    // Given answers: the metric is their logit difference; attribution sits beside every patch.
    const given = await patchSequence(run, {
      step: 0,
      clean: { example: 0 },
      answer: 3,
      corrupt_answer: 5,
    });
    const diff = logits.data[(T - 1) * U + 3]! - logits.data[(T - 1) * U + 5]!;
    assert.ok(Math.abs(given.clean_value - diff) < 1e-9, `${given.clean_value} vs ${diff}`);
    assert.deepEqual(given.answer_texts, ["t3", "t5"]);
    assert.equal(given.attribution.resid_pre[0]!.length, T);
    assert.equal(given.attribution.head_out[0]!.length, cfg.n_heads);
    const rho = given.attribution.correlation.head_out;
    assert.ok(rho !== null && rho >= -1 && rho <= 1);
    // Attribution alone: the same estimate, no patches, no correlation.
    const alone = await patchSequence(run, {
      step: 0,
      clean: { example: 0 },
      answer: 3,
      corrupt_answer: 5,
      patching: false,
    });
    assert.deepEqual([given.patched, alone.patched], [true, false]);
    assert.deepEqual([alone.resid_pre, alone.head_out], [[], []]);
    assert.deepEqual(alone.attribution.correlation, { resid_pre: null, head_out: null });
    alone.attribution.head_out.flat().forEach((v, i) => {
      const w = given.attribution.head_out.flat()[i]!;
      assert.ok(Math.abs(v! - w) < 1e-9, `${v} vs ${w}`);
    });
    await assert.rejects(
      () =>
        patchSequence(run, { step: 0, clean: { tokens: [1, 2] }, corrupt: { tokens: [1, 2, 3] } }),
      /the clean sequence has 2 tokens, the corrupted 3/,
    );
    await assert.rejects(
      () => patchSequence(run, { step: 0, clean: { tokens: [1, 2] } }),
      /needs a corrupted one/,
    );
    await assert.rejects(
      () => patchSequence(run, { step: 0, clean: { example: 0 }, answer: U }),
      /answer 9: outside the predicted tokens \[0, 9\)/,
    );
  });
});
