/**
 * One phase of `deno task bench --part gpt2` (`bench/gpt2_bench.ts`) in a process of its own, so
 * that the peak memory it prints (the kernel's `VmHWM`, the most resident memory the process ever
 * had) is that phase's alone:
 *
 * - `import HF_DIR RUNS_DIR`: `importGpt2` of the folder into `RUNS_DIR/gpt2`;
 * - `cpu RUN_DIR`: the f32 CPU model (one thread): a forward over 64 tokens (median of 3 after a
 *   warm-up) and greedy tokens per second with the key-value cache;
 * - `gpu RUN_DIR`: the same on the GPU (the whole-sequence model for the forward, one timed run
 *   after a warm-up; the cached sampler for the tokens, its caches made for the positions sampled
 *   as `mechlab sample` makes them), the weights uploaded from the file tensor by tensor. On a
 *   software adapter (lavapipe) the GPU's buffers are this process's memory too.
 *
 * Prints one JSON line: `{ import_s | forward64_ms, tokens_per_s, tokens, adapter; peak_mb }`.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { openCheckpointedRun } from "../engine/analysis/run_data.ts";
import { IGNORE } from "../engine/data/task.ts";
import { requestGpu } from "../engine/gpu/mod.ts";
import { forwardPass, viewOf } from "../engine/model/cpu_fast/model.ts";
import { buildGpuModel } from "../engine/model/gpu_model.ts";
import { readCheckpointParams } from "../engine/runs/checkpoint.ts";
import { importGpt2 } from "../engine/runs/import_run.ts";
import {
  CpuCachedModel,
  generate,
  GpuCachedModel,
  type TokenModel,
  uploadCheckpointParams,
} from "../engine/sample/mod.ts";
import { medianMs } from "./timing.ts";

/** The forward's prompt length, and how many greedy tokens each path samples. */
export const FORWARD_T = 64;
export const CPU_TOKENS = 16;
export const GPU_TOKENS = 8;

/**
 * This process's peak resident memory in MiB (`VmHWM`), or undefined off Linux.
 *
 * @example
 * ```ts
 * import { peakMb } from "./gpt2_phase.ts";
 * peakMb(); // e.g. 61.2
 * ```
 */
export function peakMb(): number | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/self/status").match(/^VmHWM:\s+(\d+) kB$/m);
    return line ? Number(line[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Greedy tokens per second from a one-token prompt (the prompt's push not timed), and the tokens. */
async function tokensPerSecond(
  model: TokenModel,
  n: number,
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

/** The 64-token prompt every path runs (PyTorch's too): token i is 97·i mod d_vocab. */
function prompt(dVocab: number): Int32Array {
  return Int32Array.from({ length: FORWARD_T }, (_, i) => (i * 97) % dVocab);
}

/**
 * Runs the phase named by `args[0]` and returns what it measured (the JSON line's fields).
 *
 * @example
 * ```ts ignore
 * await runPhase(["cpu", "runs/gpt2"]); // { forward64_ms: 4309, tokens_per_s: 1.9, ... }
 * ```
 */
export async function runPhase(args: string[]): Promise<Record<string, unknown>> {
  const [phase, from, to] = args;
  if (phase === "import" && from !== undefined && to !== undefined) {
    const t0 = performance.now();
    await importGpt2(from, { parent: to, name: "gpt2", version: meta.version });
    return { import_s: (performance.now() - t0) / 1000 };
  }
  if ((phase !== "cpu" && phase !== "gpu") || from === undefined) {
    throw new RangeError("usage: gpt2_phase.ts import HF_DIR RUNS_DIR | cpu RUN_DIR | gpu RUN_DIR");
  }
  const run = await openCheckpointedRun(from);
  const cfg = run.config.model;
  const path = run.checkpoints[0]!.path;
  const tokens = prompt(cfg.d_vocab);
  if (phase === "cpu") {
    const { params } = await readCheckpointParams(path, run.layout);
    const W = (name: string) => viewOf(run.layout, params, name);
    const dims = { B: 1, T: FORWARD_T, H: cfg.n_heads, E: cfg.d_head };
    const forward64 = medianMs(() => forwardPass(cfg, W, tokens, dims), { runs: 3 });
    const sampled = await tokensPerSecond(new CpuCachedModel(cfg, run.layout, params), CPU_TOKENS);
    return { forward64_ms: forward64, tokens_per_s: sampled.rate, tokens: sampled.tokens };
  }
  const gpu = await requestGpu();
  try {
    // From the file to the GPU tensor by tensor, as `sample --device gpu` loads.
    const { params } = await uploadCheckpointParams(gpu, path, run.layout);
    const model = await buildGpuModel(gpu, { ...cfg, n_ctx: FORWARD_T }, run.layout, {
      batch: 1,
      params,
      scored: "all",
    });
    gpu.write(model.targets, new Int32Array(FORWARD_T).fill(IGNORE));
    gpu.write(model.tokens, tokens);
    gpu.run(model.forward);
    await gpu.sync(); // warm-up, pipelines compiled; unread (a 12.9 MB copy left to the collector)
    const t0 = performance.now(); // one timed run, logits read back: a minute on a loaded lavapipe
    gpu.run(model.forward);
    await gpu.read([model.logits]);
    const forward64 = performance.now() - t0;
    model.release();
    // Done with the whole-sequence model: its buffers go back to the device, not to the pool
    // (where on a software adapter they would stay this process's memory beside the sampler's).
    gpu.pool.trim();
    // Caches for the positions sampled (the one-token prompt and GPU_TOKENS), not n_ctx's 1,024.
    const positions = 1 + GPU_TOKENS;
    const cached = await GpuCachedModel.create(gpu, cfg, run.layout, params, { positions });
    const sampled = await tokensPerSecond(cached, GPU_TOKENS);
    return {
      adapter: gpu.describe(),
      forward64_ms: forward64,
      tokens_per_s: sampled.rate,
      tokens: sampled.tokens,
    };
  } finally {
    gpu.destroy();
  }
}

if (import.meta.main) {
  const result = await runPhase(Deno.args);
  console.log(JSON.stringify({ ...result, peak_mb: peakMb() }));
}
