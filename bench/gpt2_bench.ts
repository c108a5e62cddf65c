/**
 * The GPT-2 benchmark (issue 13, item 4): a random model of GPT-2 small's shape (124M parameters,
 * `bench/make_random_gpt2.py`, the hub file's shapes and dtype) imported, run and sampled on the
 * CPU (the f32 model, one thread) and the GPU, against the same folder in plain PyTorch on the CPU
 * (`bench/torch_gpt2.py`, one thread) in the same run: the import (read, TransformerLens names,
 * weight processing, write) against PyTorch's load; one forward over 64 tokens; greedy tokens per
 * second with the key-value cache from a one-token prompt (4 tokens on the GPU). With std-0.3
 * random weights the logits have near-ties, so the table says how many first tokens agree.
 *
 * @module
 */

import { join } from "node:path";
import meta from "../deno.json" with { type: "json" };
import { requestGpu } from "../engine/gpu/mod.ts";
import { forwardPass, viewOf } from "../engine/model/cpu_fast/model.ts";
import { readCheckpointParams } from "../engine/runs/checkpoint.ts";
import { importGpt2 } from "../engine/runs/import_run.ts";
import { openCheckpointedRun } from "../engine/analysis/run_data.ts";
import { CpuCachedModel, generate, GpuCachedModel, type TokenModel } from "../engine/sample/mod.ts";
import { printTable, runPython } from "./timing.ts";

const NEW_TOKENS = 16;
/** Fewer on the GPU: lavapipe takes tens of seconds a token at this size. */
const GPU_TOKENS = 4;
const FORWARD_T = 64;

/** Greedy tokens per second from a one-token prompt (the prompt's push not timed), and the tokens. */
async function tokensPerSecond(
  model: TokenModel,
  n = NEW_TOKENS,
): Promise<{ rate: number; tokens: number[] }> {
  const tokens: number[] = [];
  let t0 = 0;
  for await (const t of generate(model, [1], { maxNewTokens: n + 1, temperature: 0, seed: 0 })) {
    if (tokens.length === 0) t0 = performance.now(); // the first token comes from the prompt's push
    tokens.push(t.token);
  }
  model.release();
  return { rate: n / ((performance.now() - t0) / 1000), tokens: tokens.slice(0, n) };
}

/** How many leading tokens `a` and `b` share, as "k of n" (random weights have near-ties). */
function sameLead(a: number[], b: number[]): string {
  let k = 0;
  while (k < Math.min(a.length, b.length) && a[k] === b[k]) k++;
  return `${k} of ${Math.min(a.length, b.length)}`;
}

/**
 * Prints the import time, the 64-token forward and sampling speed of a GPT-2-small-shaped model
 * on the CPU, the GPU and PyTorch's CPU, and whether the greedy tokens agree.
 *
 * @example
 * ```ts ignore
 * await benchGpt2();
 * ```
 */
export async function benchGpt2(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mechlab-gpt2-bench-" });
  try {
    const hf = join(dir, "gpt2_random");
    const script = new URL("./make_random_gpt2.py", import.meta.url).pathname;
    if (await runPython([script, hf]) === undefined) {
      console.log("no python3 with numpy: bench/make_random_gpt2.py did not run");
      return;
    }
    let t0 = performance.now();
    await importGpt2(hf, { parent: dir, name: "gpt2", version: meta.version });
    const importS = (performance.now() - t0) / 1000;
    const run = await openCheckpointedRun(join(dir, "gpt2"));
    const cfg = run.config.model;
    const { params } = await readCheckpointParams(run.checkpoints[0]!.path, run.layout);
    const W = (name: string) => viewOf(run.layout, params, name);
    const tokens = Int32Array.from({ length: FORWARD_T }, (_, i) => (i * 97) % cfg.d_vocab);
    const dims = { B: 1, T: FORWARD_T, H: cfg.n_heads, E: cfg.d_head };
    forwardPass(cfg, W, tokens, dims); // warm-up
    t0 = performance.now();
    forwardPass(cfg, W, tokens, dims);
    const forwardMs = performance.now() - t0;
    const cpu = await tokensPerSecond(new CpuCachedModel(cfg, run.layout, params));
    const rows = [[
      "",
      "import / load s",
      `forward ${FORWARD_T} tokens ms`,
      "greedy tokens/s",
      "same first tokens as CPU",
    ]];
    rows.push([
      "mechlab CPU (f32, one thread)",
      importS.toFixed(1),
      forwardMs.toFixed(0),
      cpu.rate.toFixed(2),
      "",
    ]);
    try {
      const gpu = await requestGpu();
      const model = await GpuCachedModel.create(gpu, cfg, run.layout, params);
      const onGpu = await tokensPerSecond(model, GPU_TOKENS);
      const name = `mechlab GPU, cached (${gpu.describe()})`;
      rows.push([name, "", "", onGpu.rate.toFixed(2), sameLead(onGpu.tokens, cpu.tokens)]);
      gpu.destroy();
    } catch (e) {
      console.log(`no GPU: ${(e as Error).message}`);
    }
    const torch = await runPython([
      new URL("./torch_gpt2.py", import.meta.url).pathname,
      hf,
      String(NEW_TOKENS),
      "1",
    ]);
    if (torch === undefined) {
      console.log("no python3 with torch: bench/torch_gpt2.py did not run");
    } else {
      const t = JSON.parse(torch);
      const same = sameLead(t.tokens, cpu.tokens);
      rows.push([
        "PyTorch CPU (torch_gpt2.py, one thread)",
        t.load_s.toFixed(1),
        t.forward64_ms.toFixed(0),
        t.tokens_per_s.toFixed(2),
        same,
      ]);
    }
    console.log(
      `GPT-2 small's shape (124M parameters), random weights, ${NEW_TOKENS} greedy tokens`,
    );
    printTable(rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
