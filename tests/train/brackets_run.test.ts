// A short brackets run on the CPU path learns to classify strings it never trained on: the
// `brackets` preset at a small size (strings up to 14 long, 400 of them, d_model 32), seconds.
// Chance is 0.5 (half the strings are balanced); the full preset's run is in bench/RESULTS.md.
import * as assert from "node:assert/strict";
import { openRunFolder } from "../../engine/runs/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { startRun } from "../../engine/train/run.ts";
import { withTempDir } from "../helpers.ts";

Deno.test({
  name: "brackets: a small causal model classifies held-out strings (test acc ≥ 0.95)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (parent) => {
      const config = resolveConfig("brackets", {
        task: { max_len: 14, n_examples: 400 },
        model: { d_model: 32, n_heads: 4, d_head: 8, d_mlp: 128 },
        train: { steps: 300, batch_size: 32, lr: 3e-3, eval_every: 100, checkpoint_every: 300 },
      }, "test");
      const folder = await startRun(config, { parent, name: "b", force: false }, {
        device: "cpu",
      });
      const metrics = await (await openRunFolder(folder.path)).readMetrics();
      const first = metrics[0]!;
      const last = metrics.at(-1)!;
      assert.equal(last.step, 300);
      assert.ok(first["test/acc"]! < 0.7, `untrained: ${first["test/acc"]}`);
      assert.ok(last["test/acc"]! >= 0.95, `test acc ${last["test/acc"]}`);
      assert.ok(last["test/loss"]! < 0.3, `test loss ${last["test/loss"]}`);
    }),
});
