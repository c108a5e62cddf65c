// A short text run's checkpoint against numpy: the run trains a small character-level model on
// the start of the committed corpus, then fixtures/numpy_forward.py (float64, its own forward)
// scores the windows rebuilt here from the file and the run's saved vocabulary and split; its
// mean losses over the train and test windows must be the ones the run recorded at that step.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { openRunFolder, readSafetensors, type RunConfig } from "../../engine/runs/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { startRun } from "../../engine/train/run.ts";
import { withTempDir } from "../helpers.ts";
import { NUMPY, numpyLoss } from "../python.ts";

NUMPY.test({
  name: "text: numpy's forward of a saved checkpoint gives the run's recorded losses",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (dir) => {
      const text = (await Deno.readTextFile("fixtures/corpus.txt")).slice(0, 4000);
      const data = join(dir, "start.txt");
      await Deno.writeTextFile(data, text);
      const config = resolveConfig("tinygpt", {
        task: { data, n_ctx: 32, stride: 32 },
        model: { n_layers: 2, d_model: 32, n_heads: 4, d_head: 8, d_mlp: 128 },
        train: {
          steps: 30,
          warmup_steps: 5,
          batch_size: 8,
          lr: 3e-3,
          eval_every: 30,
          checkpoint_every: 30,
        },
      }, "test");
      const folder = await startRun(config, { parent: dir, name: "t", force: false }, {
        device: "cpu",
      });
      const run = await openRunFolder(folder.path);
      const saved = await run.readJson<RunConfig>("config.json");
      const split = await run.readJson<{ train: number[]; test: number[] }>("split.json");
      const last = (await run.readMetrics()).at(-1)!;
      assert.equal(last.step, 30);
      assert.ok(saved.task.task === "text");
      // The windows as the module documents them: 33 characters every 32, the first 90% of the
      // file for training and the rest for test, ids by the saved vocabulary.
      const id = new Map(Array.from(saved.task.vocab, (c, i) => [c, i]));
      const cut = Math.floor(0.9 * text.length);
      const window = (start: number) =>
        Array.from(text.slice(start, start + 33), (c) => id.get(c)!);
      const starts = (from: number, to: number) =>
        Array.from({ length: Math.floor((to - from - 33) / 32) + 1 }, (_, k) => from + 32 * k);
      const rows = [...starts(0, cut), ...starts(cut, text.length)].map(window);
      assert.equal(rows.length, split.train.length + split.test.length);
      const tokens = Int32Array.from(rows.flatMap((r) => r.slice(0, 32)));
      const targets = Int32Array.from(rows.flatMap((r) => r.slice(1)));
      const { tensors } = await readSafetensors(
        join(folder.path, "checkpoints", "final.safetensors"),
      );
      const loss = await numpyLoss(saved.model, tensors, { tokens, targets });
      const mean = (ix: number[]) =>
        ix.reduce((s, n) => s + loss[n]!.reduce((a: number, b) => a + b!, 0), 0) / (ix.length * 32);
      for (const side of ["train", "test"] as const) {
        const want = mean(split[side]);
        const got = last[`${side}/loss`]!;
        assert.ok(Math.abs(got - want) < 1e-9 * want, `${side}: run ${got}, numpy ${want}`);
      }
      assert.ok(last["test/loss"]! < Math.log(saved.model.d_vocab), "it learnt something");
    }),
});
