/**
 * The attribution-patching benchmark: every patch of a prompt pair estimated from one forward and
 * one backward pass (`attributionSweep`), against the peer measured in the same run, the real
 * patching sweep it estimates (`patchingSweep`: a forward pass per patch, stacked along the batch),
 * on the tinygpt preset's model (4 layers, d_model 128, 4 heads, d_mlp 512) with n_ctx 32 and a
 * prompt that long, on the float64 CPU model and the adapter at hand. Weights are freshly initialised:
 * the work does not depend on their values.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { attributionSweep } from "../engine/analysis/attribution.ts";
import { logitDiffMetric, patchingSweep } from "../engine/analysis/patching.ts";
import { requestGpu } from "../engine/gpu/mod.ts";
import { cpuRunner, f32Runner, gpuRunner, type HookedRunner } from "../engine/hooks/mod.ts";
import { initParams, paramLayout, unflatten } from "../engine/model/params.ts";
import { Rng } from "../engine/tensor/mod.ts";
import { resolveConfig } from "../engine/train/presets.ts";
import { bestMs } from "./timing.ts";

/** The prompt's length: the patching sweep runs 2 · L · T + L · H + 1 rows of it. */
const T = 32;

/** Runs the attribution benchmark. */
export async function benchAttribution(): Promise<void> {
  const gpu = await requestGpu().catch(() => undefined);
  console.log(`adapter: ${gpu?.describe() ?? "none (CPU path only)"}`);
  // n_ctx = T: the GPU model runs full rows (its patching sweep takes no shorter ones).
  const cfg = { ...resolveConfig("tinygpt", {}, meta.version).model, n_ctx: T };
  const layout = paramLayout(cfg);
  const weights = unflatten(layout, initParams(cfg, layout));
  const rng = new Rng(0);
  const clean = Int32Array.from({ length: T }, () => rng.int(cfg.d_vocab));
  const corrupt = clean.slice();
  corrupt[T / 2] = (clean[T / 2]! + 1) % cfg.d_vocab;
  const [good, bad] = [1, 2];
  const runners: [string, HookedRunner][] = [
    ["CPU, float64", cpuRunner(cfg, weights)],
    ["CPU, f32", f32Runner(cfg, weights)],
  ];
  if (gpu) runners.push(["GPU", await gpuRunner(gpu, cfg, weights, { maxBatch: 1024 })]);
  const rows = 2 * cfg.n_layers * T + cfg.n_layers * cfg.n_heads + 1;
  for (const [where, runner] of runners) {
    const attribution = await bestMs(
      () => attributionSweep(runner, cfg, { clean, corrupt, good, bad }),
      3,
    );
    const metric = logitDiffMetric(Int32Array.of(good), Int32Array.of(bad));
    const patching = await bestMs(
      () => patchingSweep(runner, cfg, { clean, corrupt, batch: 1, metric }),
      1,
    );
    console.log(
      `tinygpt model, ${T} tokens, ${where}: attribution ${attribution.toFixed(1)} ms ` +
        `(one forward of 2 rows, one backward); patching ${patching.toFixed(1)} ms ` +
        `(${rows} rows); patching ÷ attribution ${(patching / attribution).toFixed(1)}`,
    );
    runner.release();
  }
  gpu?.destroy();
}
