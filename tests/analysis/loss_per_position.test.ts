// The loss at every position (TransformerLens' loss_per_token) by hand and against an independent
// numpy forward pass (fixtures/numpy_forward.py --positions, float64, TransformerLens' semantics)
// on models with and without LayerNorm; the in-context-learning score's positions; the sequence
// report's averages over a spread of held-out rows; and the GPU runner's losses against the CPU's.
import * as assert from "node:assert/strict";
import {
  iclPositions,
  iclScore,
  lossPerToken,
  meanPerPosition,
} from "../../engine/analysis/loss_per_position.ts";
import {
  rowsLossPerToken,
  sequenceMeasures,
  spreadRows,
} from "../../engine/analysis/sequence_report.ts";
import { IGNORE } from "../../engine/data/task.ts";
import { cpuRunner, gpuRunner } from "../../engine/hooks/mod.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import { tensor } from "../../engine/tensor/mod.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { NUMPY, numpyLoss } from "../python.ts";
import { ATTN_ONLY, GELU_LN, randomTokens, randomWeights } from "./models.ts";

Deno.test("lossPerToken and meanPerPosition by hand: unscored positions are NaN and left out", () => {
  // [B 2, T 2, U 2]: logits (0, 0) → ln 2 on either target; (ln 3, 0) → ln 4 − ln 3 on target 0
  const logits = tensor([0, 0, Math.log(3), 0, Math.log(3), 0, 0, 0], [2, 2, 2]);
  const { loss } = lossPerToken(logits, Int32Array.of(1, IGNORE, 0, 5)); // 5 is out of range: unscored
  assert.ok(Math.abs(loss[0]! - Math.LN2) < 1e-15);
  assert.ok(Number.isNaN(loss[1]!) && Number.isNaN(loss[3]!));
  assert.ok(Math.abs(loss[2]! - Math.log(4 / 3)) < 1e-15);
  const mean = meanPerPosition(loss, 2);
  assert.ok(Math.abs(mean[0]! - (Math.LN2 + Math.log(4 / 3)) / 2) < 1e-15);
  assert.equal(mean[1], null); // no row scored at position 1
  assert.throws(
    () => lossPerToken(logits, Int32Array.of(1, 2)),
    /2 targets for logits \[2, 2, 2\]/,
  );
});

Deno.test("the in-context-learning score: Olsson et al.'s 500th and 50th positions, scaled below", () => {
  assert.deepEqual(iclPositions(1024), { early: 49, late: 499 });
  assert.deepEqual(iclPositions(500), { early: 49, late: 499 });
  assert.deepEqual(iclPositions(128), { early: 12, late: 127 });
  assert.deepEqual(iclPositions(20), { early: 1, late: 19 });
  assert.deepEqual(iclPositions(2), { early: 0, late: 1 });
  assert.equal(iclPositions(1), null);
  assert.deepEqual(iclScore([4, 3.5, 3, 2, 1]), { early: 0, late: 4, score: -3 });
  // A repeated-tokens row's last position predicts nothing: the context ends at the last scored.
  assert.deepEqual(iclScore([4, 3.5, 3, 2, 1, null]), { early: 0, late: 4, score: -3 });
  assert.equal(iclScore([null, 2, 1]), null); // the early position unscored: a classification task
});

Deno.test("spreadRows takes rows from the whole split, evenly", () => {
  assert.deepEqual(
    spreadRows(Int32Array.of(10, 11, 12, 13, 14, 15, 16, 17), 4),
    Int32Array.of(10, 12, 14, 16),
  );
  assert.deepEqual(spreadRows(Int32Array.of(3, 4), 4), Int32Array.of(3, 4));
});

/** N windows of T + 1 random tokens: tokens the first T, targets the last T, a few unscored. */
function lmData(cfg: ModelConfig, N: number, seed: number) {
  const T = cfg.n_ctx;
  const windows = randomTokens(
    { ...cfg, d_vocab: Math.min(cfg.d_vocab, cfg.d_vocab_out) },
    N,
    T + 1,
    seed,
  );
  const tokens = new Int32Array(N * T);
  const targets = new Int32Array(N * T);
  for (let n = 0; n < N; n++) {
    tokens.set(windows.subarray(n * (T + 1), n * (T + 1) + T), n * T);
    targets.set(windows.subarray(n * (T + 1) + 1, (n + 1) * (T + 1)), n * T);
  }
  targets[1] = IGNORE; // row 0, position 1
  targets[2 * T - 1] = IGNORE; // row 1, the last position
  return { tokens, targets };
}

for (
  const [name, cfg] of [["LayerNorm, GELU", GELU_LN], [
    "attention-only, no LayerNorm",
    ATTN_ONLY,
  ]] as const
) {
  NUMPY.test({
    name: `loss per position against numpy's forward: ${name}`,
    fn: async () => {
      const N = 6;
      const weights = randomWeights(cfg, 7);
      const data = lmData(cfg, N, 8);
      const rows = Int32Array.from({ length: N }, (_, i) => i);
      const { loss: got } = await rowsLossPerToken(cpuRunner(cfg, weights), cfg, weights, {
        ...data,
        rows,
        n_ctx: cfg.n_ctx,
      });
      const want = (await numpyLoss(cfg, weights, data)).flat();
      let worst = 0;
      want.forEach((w, i) => {
        if (w === null) return assert.ok(Number.isNaN(got[i]!), `position ${i} should be unscored`);
        worst = Math.max(worst, Math.abs(got[i]! - w));
      });
      assert.ok(worst < 1e-12, `max |mechlab - numpy| = ${worst}`);

      // The report: the mean over a spread of the held-out rows (here 1, 3, 5), and the train rows
      // when nothing is held out.
      const measures = await sequenceMeasures(cpuRunner(cfg, weights), cfg, weights, {
        ...data,
        n_ctx: cfg.n_ctx,
        test: Int32Array.of(1, 3, 5),
        train: Int32Array.of(0, 2, 4),
      });
      const T = cfg.n_ctx;
      const byHand = Array.from({ length: T }, (_, t) => {
        const scored = [1, 3, 5].map((n) => want[n * T + t]).filter((v) => v !== null) as number[];
        return scored.reduce((a, b) => a + b, 0) / scored.length;
      });
      const report = measures.report;
      assert.deepEqual([report.rows, report.split], [3, "test"]);
      report.loss_per_position.forEach((v, t) =>
        assert.ok(Math.abs(v! - byHand[t]!) < 1e-12, `position ${t}`)
      );
      const icl = iclPositions(T)!;
      assert.ok(Math.abs(report.icl!.score - (byHand[icl.late]! - byHand[icl.early]!)) < 1e-12);
      assert.equal(measures.progress.icl_score, report.icl!.score);
      const trainOnly = await sequenceMeasures(cpuRunner(cfg, weights), cfg, weights, {
        ...data,
        n_ctx: T,
        test: new Int32Array(0),
        train: Int32Array.of(0, 2, 4),
      });
      assert.deepEqual([trainOnly.report.rows, trainOnly.report.split], [3, "train"]);
    },
  });
}

gpuTest("the GPU runner's loss per position is the CPU's (f32)", async (gpu) => {
  const cfg = { ...GELU_LN, trainable_biases: "all" as const };
  const weights = randomWeights(cfg, 9);
  const data = lmData(cfg, 4, 10);
  const rows = Int32Array.of(0, 1, 2, 3);
  const input = { ...data, rows, n_ctx: cfg.n_ctx };
  const { loss: cpu } = await rowsLossPerToken(cpuRunner(cfg, weights), cfg, weights, input);
  const runner = await gpuRunner(gpu, cfg, weights, { maxBatch: 4 });
  try {
    const { loss: onGpu } = await rowsLossPerToken(runner, cfg, weights, input);
    let worst = 0;
    cpu.forEach((v, i) => {
      if (Number.isNaN(v)) return assert.ok(Number.isNaN(onGpu[i]!));
      worst = Math.max(worst, Math.abs(v - onGpu[i]!));
    });
    assert.ok(worst < 1e-4, `max |gpu - cpu| = ${worst}`);
  } finally {
    runner.release();
  }
});
