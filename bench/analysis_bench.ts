/**
 * The analysis benchmark, on the adapter at hand and on the float64 CPU model:
 *
 * - a full activation-patching sweep (every layer's residual at every position, every head, every
 *   MLP) over 64 input pairs of the grokking model, batched into one hooked run, against the peer
 *   measured in the same run: the same patches one hooked run each, as a TransformerLens loop does;
 * - `analyze` of one checkpoint of the grokking task (its whole 12,769-example table), and of
 *   every checkpoint of a short smoke run.
 *
 * Weights are freshly initialised: the work does not depend on their values.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { analyzeRun } from "../engine/analysis/analyze_run.ts";
import { analyzeCheckpoint } from "../engine/analysis/checkpoint_report.ts";
import { corruptPartner } from "../engine/analysis/inspect.ts";
import { logitDiffMetric, patchingSweep } from "../engine/analysis/patching.ts";
import { type Gpu, requestGpu } from "../engine/gpu/mod.ts";
import { cpuRunner, gpuRunner, type HookedRunner, type Intervention } from "../engine/hooks/mod.ts";
import type { ModelConfig } from "../engine/model/config.ts";
import { initParams, paramLayout, unflatten } from "../engine/model/params.ts";
import type { Tensor } from "../engine/tensor/mod.ts";
import { buildTask, lastTargets } from "../engine/data/mod.ts";
import { resolveConfig } from "../engine/train/presets.ts";
import { startRun } from "../engine/train/run.ts";
import { bestMs } from "./timing.ts";

/** Input pairs per sweep: a batch the size people patch over. */
const PAIRS = 64;

/** The peer: each patch of the sweep as its own hooked run over the pairs. */
async function oneAtATime(
  runner: HookedRunner,
  cfg: ModelConfig,
  pairs: { clean: Int32Array; corrupt: Int32Array },
): Promise<void> {
  const names: string[] = [];
  for (let l = 0; l < cfg.n_layers; l++) {
    names.push(`blocks.${l}.hook_resid_pre`, `blocks.${l}.attn.hook_z`);
    if (!cfg.attn_only) names.push(`blocks.${l}.hook_mlp_out`);
  }
  const { cache } = await runner.runWithCache(pairs.clean, PAIRS, { names });
  const patch = (name: string, where: { pos?: number; head?: number }): Intervention => ({
    kind: "patch",
    name,
    source: cache.get(name) as Tensor,
    ...where,
  });
  const edits: Intervention[] = [];
  const T = pairs.clean.length / PAIRS;
  for (let l = 0; l < cfg.n_layers; l++) {
    for (let t = 0; t < T; t++) edits.push(patch(`blocks.${l}.hook_resid_pre`, { pos: t }));
    for (let h = 0; h < cfg.n_heads; h++) edits.push(patch(`blocks.${l}.attn.hook_z`, { head: h }));
    if (cfg.attn_only) continue;
    for (let t = 0; t < T; t++) edits.push(patch(`blocks.${l}.hook_mlp_out`, { pos: t }));
  }
  for (const edit of edits) await runner.runWithHooks(pairs.corrupt, PAIRS, [edit]);
}

/** Runs the analysis benchmark. */
export async function benchAnalysis(): Promise<void> {
  const gpu: Gpu | undefined = await requestGpu().catch(() => undefined);
  console.log(`adapter: ${gpu?.describe() ?? "none (CPU path only)"}`);
  const config = resolveConfig("grokking", {}, meta.version);
  const cfg = config.model;
  const layout = paramLayout(cfg);
  const weights = unflatten(layout, initParams(cfg, layout));
  const task = buildTask(config.task);
  const T = task.n_ctx;
  const answers = lastTargets(task); // [N]
  const clean = new Int32Array(PAIRS * T);
  const corrupt = new Int32Array(PAIRS * T);
  const good = new Int32Array(PAIRS);
  const bad = new Int32Array(PAIRS);
  for (let i = 0; i < PAIRS; i++) {
    const e = i * 199; // spread over the table
    const c = corruptPartner(task, e);
    clean.set(task.tokens.subarray(e * T, (e + 1) * T), i * T);
    corrupt.set(task.tokens.subarray(c * T, (c + 1) * T), i * T);
    [good[i], bad[i]] = [answers[e]!, answers[c]!];
  }
  const runners: [string, HookedRunner][] = [["CPU, float64", cpuRunner(cfg, weights)]];
  if (gpu) runners.push(["GPU", await gpuRunner(gpu, cfg, weights, { maxBatch: 4096 })]);
  const inputs = { clean, corrupt, batch: PAIRS, metric: logitDiffMetric(good, bad) };
  for (const [where, runner] of runners) {
    const batched = await bestMs(() => patchingSweep(runner, cfg, inputs));
    const peer = await bestMs(() => oneAtATime(runner, cfg, { clean, corrupt }), 1);
    console.log(
      `patching sweep, grokking model, ${PAIRS} pairs, ${where}: ${batched.toFixed(1)} ms ` +
        `batched; one run per patch ${peer.toFixed(1)} ms (${
          (peer / batched).toFixed(2)
        }× batched)`,
    );
    const t0 = performance.now();
    await analyzeCheckpoint(runner, { cfg, task, weights, step: 0 });
    console.log(
      `analyze, one grokking checkpoint (12,769 examples), ${where}: ` +
        `${((performance.now() - t0) / 1000).toFixed(2)} s`,
    );
    runner.release();
  }
  gpu?.destroy();

  // A whole run: the smoke preset's checkpoints, analysed as `mechlab analyze` does.
  const parent = await Deno.makeTempDir();
  try {
    const smoke = resolveConfig("smoke", {
      train: { steps: 600, checkpoint_every: 100, eval_every: 100 },
    }, meta.version);
    await startRun(smoke, { parent, name: "smoke", force: false }, { device: "cpu" });
    for (const device of gpu ? ["gpu", "cpu"] as const : ["cpu"] as const) {
      const t0 = performance.now();
      const summary = await analyzeRun(`${parent}/smoke`, { device });
      const s = (performance.now() - t0) / 1000;
      console.log(
        `analyze, smoke run (p = 23), ${summary.checkpoints} checkpoints on ${device}: ` +
          `${s.toFixed(1)} s, ${(s / summary.checkpoints).toFixed(2)} s each`,
      );
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}
