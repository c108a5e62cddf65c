// `mechlab analyze` on an imported GPT-2 (a tiny random one with GPT-2's real vocabulary of
// 50,257, tests/runs/hf_gpt2.ts, imported with the CLI): its one checkpoint's sequence report on
// TransformerLens' repeated random tokens (BOS 50256, L = 15 tokens, the same 15 again), checked
// against numbers worked here from the float64 forward's logits and patterns: the loss per
// position by log-softmax, the in-context-learning score, and every head's previous-token,
// duplicate-token and induction scores by TransformerLens' `detect_head` formula written out
// (Σ pattern ⊙ detection / Σ pattern per sequence, then the mean). The server then answers the
// report to the page.
import * as assert from "node:assert/strict";
import { checkpointWeights, openCheckpointedRun } from "../../engine/analysis/run_data.ts";
import type { CheckpointReport } from "../../engine/analysis/report.ts";
import { analysisTask } from "../../engine/data/mod.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { startServer } from "../../engine/server/mod.ts";
import { mechlab, withTempDir } from "../helpers.ts";
import { importTinyGpt2, TINY_GPT2 } from "../runs/hf_gpt2.ts";
import { logSoftmaxRows } from "../runs/gpt2_helpers.ts";

/** The report keeps 6 significant digits. */
const close = (got: number | null, want: number, what: string) =>
  assert.ok(
    got !== null && Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)),
    `${what}: ${got} vs ${want}`,
  );

/** TransformerLens' detection patterns, `[T][T]` (query, key), as `head_detector.py` builds them. */
function detection(kind: string, tok: Int32Array): number[][] {
  const T = tok.length;
  const dup = (q: number, k: number) => k < q && tok[k] === tok[q]; // tril, diagonal zeroed
  return Array.from({ length: T }, (_, q) =>
    Array.from({ length: T }, (_, k) => {
      if (kind === "previous_token") return k === q - 1 ? 1 : 0;
      if (kind === "duplicate_token") return dup(q, k) ? 1 : 0;
      return k >= 1 && k <= q && dup(q, k - 1) ? 1 : 0; // duplicate shifted one key right, tril
    }));
}

Deno.test("analyze: an imported GPT-2's loss per position, ICL score and head detectors on repeated tokens", async () => {
  await withTempDir(async (dir) => {
    const path = await importTinyGpt2(`${dir}/runs`);
    const analysed = await mechlab("analyze", "--run", path, "--device", "cpu");
    assert.equal(analysed.code, 0, analysed.err);
    const report: CheckpointReport = JSON.parse(
      await Deno.readTextFile(`${path}/analysis/step_000000.json`),
    );

    // The batch: 8 rows of BOS, 15 random tokens (n_positions 32 holds 1 + 2 · 15), them again.
    const run = await openCheckpointedRun(path);
    const tokens = analysisTask(run.config.task).tokens;
    const [B, L, T, V] = [8, 15, 31, TINY_GPT2.vocab_size];
    assert.equal(tokens.length, B * T);
    for (let b = 0; b < B; b++) {
      const row = tokens.subarray(b * T, (b + 1) * T);
      assert.equal(row[0], 50256);
      for (let i = 1; i <= L; i++) {
        assert.ok(row[i]! < 50256 && row[i] === row[i + L], `row ${b} repeats at ${i}`);
      }
    }
    const weights = await checkpointWeights(run, 0);
    const cfg = run.config.model;
    const { logits, cache } = cpuForward(cfg, weights, tokens, B, { cache: true });

    // Loss per position: -log p(next token), the mean over rows; the last position predicts none.
    const logp = logSoftmaxRows(logits.data, V);
    const want = Array.from({ length: T - 1 }, (_, t) => {
      let s = 0;
      for (let b = 0; b < B; b++) s -= logp[(b * T + t) * V + tokens[b * T + t + 1]!]!;
      return s / B;
    });
    const seq = report.sequence!;
    assert.deepEqual([seq.rows, seq.loss_per_position.length, seq.loss_per_position[T - 1]], [
      B,
      T,
      null,
    ]);
    want.forEach((w, t) => close(seq.loss_per_position[t]!, w, `loss at ${t}`));
    close(report.progress.train_loss, want.reduce((a, b) => a + b) / want.length, "mean loss");
    // ICL: the last scored position (29) minus a tenth of it (2).
    assert.deepEqual([seq.icl!.early, seq.icl!.late], [2, 29]);
    close(seq.icl!.score, want[29]! - want[2]!, "icl score");

    // detect_head's "mul" score of every head from the float64 patterns.
    const { detectors } = seq;
    assert.deepEqual([detectors.seq_len, detectors.batch], [T, B]);
    const H = TINY_GPT2.n_head;
    for (const kind of ["previous_token", "duplicate_token", "induction"] as const) {
      for (let l = 0; l < TINY_GPT2.n_layer; l++) {
        const pattern = cache!.get(`blocks.${l}.attn.hook_pattern`)!.data; // [B, H, T, T]
        for (let h = 0; h < H; h++) {
          let mean = 0;
          for (let b = 0; b < B; b++) {
            const det = detection(kind, tokens.subarray(b * T, (b + 1) * T));
            let [hit, all] = [0, 0];
            for (let q = 0; q < T; q++) {
              for (let k = 0; k < T; k++) {
                const a = pattern[((b * H + h) * T + q) * T + k]!;
                hit += a * det[q]![k]!;
                all += a;
              }
            }
            mean += hit / all / B;
          }
          close(detectors[kind][l]![h]!, mean, `${kind} L${l}H${h}`);
        }
      }
    }

    // The page reads it through the server: the index (one step, the batch's shape) and the report.
    const server = await startServer({ port: 0, runs: `${dir}/runs` });
    try {
      const get = async (q: string) => {
        const r = await fetch(`http://127.0.0.1:${server.port}/api/runs/tinygpt2/analysis${q}`, {
          headers: { authorization: `Bearer ${server.token}` },
        });
        return { status: r.status, body: await r.json() };
      };
      const index = await get("");
      assert.equal(index.status, 200);
      assert.deepEqual(
        [index.body.task, index.body.steps, index.body.n_ctx, index.body.examples],
        ["pretrained", [0], T, B],
      );
      const step = await get("?step=0");
      assert.equal(step.status, 200);
      assert.deepEqual(step.body.sequence, seq);
    } finally {
      await server.close();
    }
  });
});
