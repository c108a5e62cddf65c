// The GPU paths (lavapipe here) of an imported tiny GPT-2 (fixtures/make_tiny_gpt2.py): the cached
// and uncached GPU sources, on the LNPre model that processing makes and on the raw LN one, give
// the independent numpy forward's log-probs at every position and its greedy tokens; a vocabulary
// whose W_E and W_U exceed the adapter's binding size (as GPT-2's on lavapipe) samples as the CPU.
import * as assert from "node:assert/strict";
import { DEFAULT_MODEL } from "../../engine/model/config.ts";
import { initParams, paramLayout } from "../../engine/model/params.ts";
import {
  CpuCachedModel,
  generate,
  GpuCachedModel,
  GpuUncachedModel,
} from "../../engine/sample/mod.ts";
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

gpuTest(
  "import gpt2 gpu: W_E and W_U over the adapter's binding size sample as on the CPU",
  async (gpu) => {
    // GPT-2's 154 MB W_E and W_U exceed lavapipe's 128 MiB binding: both are bound in blocks of
    // rows (the cached source copies W_E's row on the GPU). A vocabulary one row past the limit:
    // token U - 1 is the second block's only row.
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const D = 128;
    const U = Math.floor(limit / (4 * D)) + 1;
    if (4 * U * D * 2 > 2 ** 30) {
      console.log(`  binding limit ${limit} bytes: a model past it would take over 1 GB; not run`);
      return;
    }
    const cfg = {
      ...DEFAULT_MODEL,
      n_layers: 1,
      d_model: D,
      n_heads: 2,
      d_head: 32,
      d_mlp: 64,
      d_vocab: U,
      d_vocab_out: U,
      n_ctx: 4,
      act_fn: "gelu_new" as const,
      normalization_type: "LNPre" as const,
      trainable_biases: "all" as const,
      initializer_range: 0.5,
    };
    const layout = paramLayout(cfg);
    const params = initParams(cfg, layout);
    for (const Source of [GpuCachedModel, GpuUncachedModel]) {
      const onGpu = await Source.create(gpu, cfg, layout, params);
      const onCpu = new CpuCachedModel(cfg, layout, params);
      for (const token of [7, U - 1, 123_456]) {
        const expected = onCpu.push(token);
        const what = `${Source.name}: logits after token ${token}`;
        assertClose(await onGpu.push(token), expected, 1e-4, what);
      }
      onGpu.release();
    }
  },
);
