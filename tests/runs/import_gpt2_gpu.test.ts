// The GPU paths (lavapipe here) of an imported tiny GPT-2 (fixtures/make_tiny_gpt2.py): the cached
// and uncached GPU sources, on the LNPre model that processing makes and on the raw LN one, give
// the independent numpy forward's log-probs at every position and its greedy tokens.
import * as assert from "node:assert/strict";
import { generate, GpuCachedModel, GpuUncachedModel } from "../../engine/sample/mod.ts";
import { assertClose, withTempDir } from "../helpers.ts";
import { gpuTest } from "../gpu/gpu_helpers.ts";
import { FIXTURE, importAll, logSoftmaxRows } from "./gpt2_helpers.ts";

const V = 300; // the fixtures' vocab_size

gpuTest(
  "import gpt2 gpu: cached and uncached sources give numpy's log-probs and greedy tokens",
  async (gpu) => {
    await withTempDir(async (dir) => {
      for (const run of await importAll(dir)) {
        const expected = logSoftmaxRows(FIXTURE.cases[run.fixture].logits.flat(), V);
        for (const Source of [GpuCachedModel, GpuUncachedModel]) {
          const what = `${run.name} ${Source.name}`;
          const model = await Source.create(gpu, run.cfg, run.layout, run.params);
          const got: number[] = [];
          for (const t of FIXTURE.tokens) got.push(...await model.push(t));
          model.release();
          assertClose(logSoftmaxRows(got, V), expected, 2e-4, `${what} log-probs`);
          const fresh = await Source.create(gpu, run.cfg, run.layout, run.params);
          const greedy = FIXTURE.cases[run.fixture].greedy;
          const tokens: number[] = [];
          const options = { maxNewTokens: greedy.length, temperature: 0, seed: 0 };
          for await (const t of generate(fresh, FIXTURE.prompt, options)) tokens.push(t.token);
          fresh.release();
          assert.deepEqual(tokens, greedy, `${what} greedy`);
        }
      }
    });
  },
);
