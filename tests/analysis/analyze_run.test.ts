// `mechlab analyze` end to end on a short smoke run trained on the CPU: one analysis file per
// checkpoint, whose losses and accuracies are those of an independent forward pass (numpy, float64,
// written from TransformerLens' semantics in fixtures/numpy_forward.py, which rebuilds the task
// from config.json and reads the weights with its own safetensors reader), a decomposition that
// sums to the logits, a summary of the last checkpoint; and one example inspected, whose patching
// is exact where it must be. For an oocl run, analyze's pooled figures against the trainer's
// evaluation (the same CPU forward: a check of the pooling over groups, not of the forward).
import * as assert from "node:assert/strict";
import { join } from "node:path";
import type {
  AnalysisIndex,
  AnalysisSummary,
  CheckpointReport,
  ProgressRow,
} from "../../engine/analysis/report.ts";
import { corruptPartner, inspectExample } from "../../engine/analysis/inspect.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { checkpointWeights, openAnalysisRun } from "../../engine/analysis/run_data.ts";
import { RunIndex, summarize } from "../../engine/server/run_index.ts";
import { cellValue } from "../../ui/runs_rows.ts";
import { listDir, mechlab, withTempDir } from "../helpers.ts";
import { NUMPY, python } from "../python.ts";

/** Relative closeness: the analysis files keep 6 significant digits. */
function assertRel(actual: number, expected: number, what: string, rel = 2e-5) {
  const diff = Math.abs(actual - expected);
  assert.ok(diff <= rel * Math.abs(expected) + 1e-9, `${what}: ${actual} vs ${expected}`);
}

/** One of the run's analysis files, parsed. */
async function readAnalysis<T>(run: string, name: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(join(run, "analysis", name))) as T;
}

/**
 * Each analysed checkpoint's `pairs` (progress field, metrics.jsonl key) against the trainer's
 * evaluation at the same step (the same CPU forward: this checks how analyze pools the groups),
 * and its decomposition error under 1e-4.
 */
async function assertTrainerAgrees(
  run: string,
  index: AnalysisIndex,
  pairs: [keyof ProgressRow, string][],
): Promise<void> {
  const metrics = (await Deno.readTextFile(join(run, "metrics.jsonl"))).trim().split("\n")
    .map((l) => JSON.parse(l) as Record<string, number>);
  for (const row of index.progress) {
    const m = metrics.find((r) => r.step === row.step)!;
    for (const [field, key] of pairs) {
      assertRel(row[field] as number, m[key]!, `${field} at ${row.step}`);
    }
    assert.ok(row.decomposition_error! < 1e-4, `decomposition error ${row.decomposition_error}`);
  }
}

NUMPY.test({
  name:
    "analyze: a smoke run past grokking, its losses numpy's, the field's measures, one example inspected",
  fn: () =>
    withTempDir(async (dir) => {
      const trained = await mechlab(
        "train",
        "--preset",
        "smoke",
        "--steps",
        "500",
        "--checkpoint-every",
        "50",
        "--eval-every",
        "50",
        "--device",
        "cpu",
        "--out",
        dir,
        "--name",
        "r",
      );
      assert.equal(trained.code, 0, trained.err);
      const run = join(dir, "r");
      const analysed = await mechlab("analyze", "--run", run, "--device", "cpu");
      assert.equal(analysed.code, 0, analysed.err);
      const steps = Array.from({ length: 11 }, (_, i) => 50 * i); // step 0 is written at start
      const name = (step: number) => `step_${String(step).padStart(6, "0")}.json`;
      assert.deepEqual(await listDir(join(run, "analysis")), [
        "index.json",
        ...steps.map(name),
        "summary.json",
      ]);
      const read = <T>(name: string) => readAnalysis<T>(run, name);
      const index = await read<AnalysisIndex>("index.json");
      assert.deepEqual(index.steps, steps);
      assert.equal(index.examples, 23 * 23);
      assert.equal(index.split.filter((s) => s === 0).length, 264); // ⌊0.5 · 529⌋ train
      const script = new URL("../../fixtures/numpy_forward.py", import.meta.url).pathname;
      const numpy = await python<Record<string, Record<string, number>>>([script, run]);
      assert.deepEqual(Object.keys(numpy).map(Number).sort((a, b) => a - b), steps);
      for (const row of index.progress) {
        for (const key of ["train_loss", "test_loss", "train_acc", "test_acc"] as const) {
          assertRel(row[key] as number, numpy[row.step]![key]!, `${key} at ${row.step}`);
        }
        assert.ok(
          row.decomposition_error! < 1e-4,
          `decomposition error ${row.decomposition_error}`,
        );
      }
      assert.ok(index.progress.every((row) => Array.isArray(row.key_freqs)));
      const last = await read<CheckpointReport>("step_000500.json");
      assert.equal(last.example_loss.length, 529);
      assert.equal(last.modular?.embed_fourier_norms.length, 12);
      assert.equal(last.heads.length, 4);
      const summary = await read<AnalysisSummary>("summary.json");
      assert.equal(summary.step, 500);
      assert.equal(summary.checkpoints, 11);
      assert.equal(summary.test_loss, last.progress.test_loss);

      // What ties it to the field (Nanda et al.'s grokking, here on p = 23, which groks by step 350):
      // a small set of key frequencies; keeping only them loses almost nothing; and removing them
      // hurts (excluded loss rises) well before the test loss falls.
      assert.ok(last.progress.test_acc === 1, `grokked: test accuracy ${last.progress.test_acc}`);
      const keys = summary.key_freqs!;
      assert.ok(keys.length >= 1 && keys.length <= 5, `key frequencies [${keys}] of 11`);
      assert.ok(
        summary.restricted_loss! < 2 * summary.train_loss,
        `restricted loss ${summary.restricted_loss} vs train loss ${summary.train_loss}`,
      );
      const testLoss = index.progress.map((r) => r.test_loss!); // this run holds half out
      const peak = Math.max(...testLoss);
      const fell = index.progress[testLoss.findIndex((l) => l < 0.1 * peak)]!.step;
      const rose = index.progress.find((r) =>
        r.excluded_loss! > 0.5 && r.excluded_loss! > 10 * r.train_loss
      )!.step;
      assert.ok(rose < fell, `excluded loss rose at step ${rose}, test loss fell at ${fell}`);

      // Example (3, 5) patched into (3, 6), asked for, which differs only in y, at position 1.
      // Patching the clean residual at position 1 makes the corrupt run the clean one (metric
      // exactly 1); at position 0 (the same x) it changes nothing (exactly 0).
      const example = 3 * 23 + 5;
      const opened = await openAnalysisRun(run);
      const r = await inspectExample(opened, 500, example, { partner: example + 1 });
      assert.equal(r.patching.corrupt_example, example + 1);
      assert.deepEqual(r.tokens, ["3", "5", "="]);
      assertRel(r.patching.resid_pre[0]![1]!, 1, "patching resid_pre at y", 1e-9);
      assert.ok(Math.abs(r.patching.resid_pre[0]![0]!) < 1e-9, "patching resid_pre at x");
      // The attribution sums to the target's logit of an independent forward pass.
      const weights = await checkpointWeights(opened, 500);
      const { logits } = cpuForward(opened.config.model, weights, Int32Array.of(3, 5, 23), 1);
      const logit = logits.data[2 * 23 + r.target]!;
      assertRel(
        r.dla.values.reduce((a, b) => a + b, 0),
        logit,
        "Σ DLA vs the target's logit",
        1e-9,
      );
      assert.equal(r.patterns.length, 1);
      assert.equal(r.patterns[0]!.length, 4);
      // The default partner differs in x and y: (4, 0), answer 4 (not 8).
      assert.equal(corruptPartner(opened.task, example), 4 * 23 + 0);
    }),
});

Deno.test("analyze: bad input is one line and a non-zero exit", async () => {
  await withTempDir(async (dir) => {
    const cases: [string[], RegExp][] = [
      [[], /^mechlab: --run is required/],
      [["--run", join(dir, "nope")], /^mechlab: run folder .*nope/],
      [["--run", dir, "--every", "0"], /^mechlab: --every 0: expected a positive integer$/],
      [["--run", dir, "--device", "tpu"], /^mechlab: --device tpu: expected auto, gpu or cpu$/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await mechlab("analyze", ...args);
      assert.equal(code, 2, args.join(" "));
      assert.equal(err.trim().split("\n").length, 1, err);
      assert.match(err.trim(), message);
    }
  });
});

Deno.test("analyze: an oocl run, its pooled losses the trainer's, twins counted from the tokens", async () => {
  await withTempDir(async (dir) => {
    const p = 7;
    const trained = await mechlab(
      "train",
      ...["--preset", "oocl", "--p", String(p), "--steps", "20", "--checkpoint-every", "10"],
      ...["--eval-every", "10", "--d-model", "16", "--n-heads", "2", "--d-head", "8"],
      ...["--device", "cpu", "--out", dir, "--name", "o"],
    );
    assert.equal(trained.code, 0, trained.err);
    const run = join(dir, "o");
    const analysed = await mechlab("analyze", "--run", run, "--device", "cpu");
    assert.equal(analysed.code, 0, analysed.err);
    const index = await readAnalysis<AnalysisIndex>(run, "index.json");
    assert.deepEqual(index.groups, ["table1", "table2", "links"]);
    assert.deepEqual(index.steps, [0, 10, 20]);
    // Every loss is pooled (the mean over the split's examples, whatever their group): the
    // trainer's lines, analyze's progress rows and the runs table's cells are one number.
    await assertTrainerAgrees(run, index, [
      ["train_loss", "train/loss"],
      ["test_loss", "test/loss"],
      ["test_acc", "test/acc"],
      ["train_acc", "train/acc"],
    ]);
    const [entry] = await new RunIndex(dir).scan();
    const row = summarize(entry!, new Set());
    const lastRow = index.progress.at(-1)!;
    assertRel(cellValue(row, "train_loss") as number, lastRow.train_loss, "runs table train loss");
    assertRel(cellValue(row, "test_loss") as number, lastRow.test_loss!, "runs table test loss");
    // The objective the optimiser minimised is written beside it: Σ k_g · (group g's train mean).
    const config = JSON.parse(await Deno.readTextFile(join(run, "config.json")));
    const k = [config.task.k1, config.task.k2, config.task.k3];
    const m = row.metrics as Record<string, number>;
    const objective = ["table1", "table2", "links"]
      .reduce((sum, g, i) => sum + k[i]! * m[`train/loss_${g}`]!, 0);
    assertRel(m["train/objective"]!, objective, "train/objective");
    assert.ok(Math.abs(m["train/objective"]! - m["train/loss"]!) > 1e-3, "objective ≠ pooled");
    const report = await readAnalysis<CheckpointReport>(run, "step_000020.json");
    assert.equal(report.oocl?.alias_cosine.length, p);
    assert.equal(report.modular, undefined);
    // Twins found from the tokens: a held-out table-1 row [true, x, y, =] whose table-2 row
    // [true, x+p, y+p, =] trained (and the other way round).
    const opened = await openAnalysisRun(run);
    const { tokens, groups } = opened.task;
    const T = opened.task.n_ctx;
    const key = (i: number) => Array.from(tokens.subarray(i * T, (i + 1) * T)).join();
    const trainedRows = (g: number) => new Set(Array.from(groups[g]!.train, key));
    const shifted = (i: number, by: number) =>
      Array.from(
        tokens.subarray(i * T, (i + 1) * T),
        (t, pos) => pos === 1 || pos === 2 ? t + by : t,
      )
        .join();
    const twins = (from: number, to: number, by: number) =>
      Array.from(groups[from]!.test).filter((i) => trainedRows(to).has(shifted(i, by))).length;
    assert.deepEqual(report.oocl?.twin.map((t) => t.n), [twins(0, 1, p), twins(1, 0, -p)]);
    assert.ok(report.oocl!.twin[0]!.n > 0, "some held-out cells of table 1 have a trained twin");
  });
});
