/**
 * The sampling benchmark (issue 12, item 8): tokens per second generating 256 tokens greedily
 * from a one-token prompt with and without the key-value cache, on the CPU (the f32 model) and on
 * the GPU (lavapipe here), for the `tinygpt` shape (4 layers, d_model 128, 4 heads, GELU, LN) with
 * n_ctx 288 so that 256 new tokens fit, random weights. The uncached CPU source runs the model over
 * the sequence so far at each token; the uncached GPU source runs the model's whole n_ctx forward
 * (its buffers are built for n_ctx). Each source first makes 8 tokens untimed (JIT, pipelines).
 * Target: cached ≥ 5× uncached.
 *
 * @module
 */

import { type Gpu, requestGpu } from "../engine/gpu/mod.ts";
import { initParams, paramLayout } from "../engine/model/params.ts";
import {
  CpuCachedModel,
  CpuUncachedModel,
  generate,
  GpuCachedModel,
  GpuUncachedModel,
  type TokenModel,
} from "../engine/sample/mod.ts";
import { TINYGPT } from "./tinygpt_bench.ts";
import { printTable } from "./timing.ts";

const CFG = { ...TINYGPT, n_ctx: 288 };
const NEW_TOKENS = 256;
const WARM_UP = 8;

/** Seconds to draw `n` greedy tokens from a fresh source, and the tokens. */
async function timed(make: () => Promise<TokenModel>, n: number) {
  const model = await make();
  const tokens: number[] = [];
  const t0 = performance.now();
  try {
    for await (const t of generate(model, [1], { maxNewTokens: n, temperature: 0, seed: 0 })) {
      tokens.push(t.token);
    }
  } finally {
    model.release();
  }
  return { seconds: (performance.now() - t0) / 1000, tokens };
}

/**
 * Prints tokens per second with and without the cache on the CPU and the GPU, and whether each
 * pair made the same greedy tokens.
 *
 * @example
 * ```ts ignore
 * await benchSample();
 * ```
 */
export async function benchSample(): Promise<void> {
  const layout = paramLayout(CFG);
  const params = initParams(CFG, layout);
  const rows = [["source", "tokens/s cached", "tokens/s uncached", "cached / uncached", "same"]];
  const pair = async (
    name: string,
    cached: () => Promise<TokenModel>,
    uncached: () => Promise<TokenModel>,
  ) => {
    await timed(cached, WARM_UP);
    await timed(uncached, WARM_UP);
    const a = await timed(cached, NEW_TOKENS);
    const b = await timed(uncached, NEW_TOKENS);
    const [fast, slow] = [NEW_TOKENS / a.seconds, NEW_TOKENS / b.seconds];
    const same = a.tokens.join() === b.tokens.join() ? "yes" : "NO";
    rows.push([name, fast.toFixed(1), slow.toFixed(1), `${(fast / slow).toFixed(1)}×`, same]);
  };
  console.log(
    `tinygpt shape, n_ctx ${CFG.n_ctx}, random weights: ${NEW_TOKENS} greedy tokens from 1`,
  );
  await pair(
    "CPU (f32, one thread)",
    () => Promise.resolve(new CpuCachedModel(CFG, layout, params)),
    () => Promise.resolve(new CpuUncachedModel(CFG, layout, params)),
  );
  let gpu: Gpu | undefined;
  try {
    gpu = await requestGpu();
  } catch (e) {
    console.log(`no GPU: ${(e as Error).message}`);
  }
  if (gpu !== undefined) {
    const device = gpu;
    console.log(`adapter: ${device.describe()}`);
    await pair(
      "GPU",
      () => GpuCachedModel.create(device, CFG, layout, params),
      () => GpuUncachedModel.create(device, CFG, layout, params),
    );
    device.destroy();
  }
  printTable(rows);
}
