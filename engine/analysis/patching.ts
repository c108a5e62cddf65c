/**
 * Activation patching sweeps, as TransformerLens' `patching` module defines them: run the clean
 * input with a cache, then the corrupt input with one activation patched in from that cache, and
 * score the logits with a metric averaged over the examples. Three sweeps, each entry one patch:
 *
 * - `resid_pre [L][T]`: `blocks.L.hook_resid_pre` at one position (`get_act_patch_resid_pre`);
 * - `head_out [L][H]`: one head's `blocks.L.attn.hook_z` at every position
 *   (`get_act_patch_attn_head_out_all_pos`);
 * - `mlp_out [L][T]`: `blocks.L.hook_mlp_out` at one position (`get_act_patch_mlp_out`); rows
 *   are empty for an attention-only model.
 *
 * Batched, since one patch at a time is what makes patching too slow to explore: every variant
 * (and the unpatched corrupt run) is a block of rows of one `runWithHooks` call, each patch aimed
 * at its block with `rows`. A call holds at most `maxRows` rows (default: the runner's
 * `maxBatch`, capped at 8192): variants are split over calls when they do not fit, and examples too
 * when one variant does not fit.
 *
 * Shape letters: L n_layers, T pos, H n_heads, N examples, U d_vocab_out.
 *
 * @module
 */

import type { HookedRunner, Intervention } from "../hooks/mod.ts";
import { positionsOf } from "../hooks/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { concat, slice, type Tensor } from "../tensor/mod.ts";

/** A sweep's metric values, each the mean over the examples. */
export interface PatchingSweep {
  /** The metric on the clean run, unpatched. */
  clean: number;
  /** The metric on the corrupt run, unpatched. */
  corrupt: number;
  /** `[L][T]`: `blocks.L.hook_resid_pre` patched at one position. */
  resid_pre: number[][];
  /** `[L][H]`: one head's `hook_z` patched at every position. */
  head_out: number[][];
  /** `[L][T]`: `blocks.L.hook_mlp_out` patched at one position; `[]` rows when `attn_only`. */
  mlp_out: number[][];
}

/** What a sweep runs: `batch` examples of clean and corrupt tokens, and the metric. */
export interface PatchingInputs {
  /** `[batch, pos]` row-major. */
  clean: Int32Array;
  /** `[batch, pos]`: the same examples corrupted. */
  corrupt: Int32Array;
  batch: number;
  /** Last-position logits `[batch, d_vocab_out]` of the examples, in order → one value each. */
  metric: (logits: Tensor) => Float64Array;
  /** The most rows one call may hold: default min(runner.maxBatch, 8192). */
  maxRows?: number;
}

/** Which sweep a patch belongs to. */
type SweepName = "resid_pre" | "head_out" | "mlp_out";

/** One variant of the corrupt run: a patch, or none (the corrupt baseline). */
interface Variant {
  sweep?: SweepName;
  layer: number;
  /** The position (resid_pre, mlp_out) or head (head_out). */
  at: number;
}

/** Rows per call when the runner sets no tighter limit: a few hundred MB on the grokking model. */
const DEFAULT_MAX_ROWS = 8192;

/**
 * The three patching sweeps of `cfg` on `runner` (CPU or GPU alike).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuRunner } from "../hooks/mod.ts";
 * import { logitDiffMetric, patchingSweep } from "./patching.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const runner = cpuRunner(cfg, unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg))));
 * const sweep = await patchingSweep(runner, cfg, {
 *   clean: new Int32Array([3, 5, 113]), // 3 + 5 = 8
 *   corrupt: new Int32Array([3, 6, 113]), // 3 + 6 = 9
 *   batch: 1,
 *   metric: logitDiffMetric(new Int32Array([8]), new Int32Array([9])),
 * });
 * sweep.resid_pre.length; // 1 layer, of 3 positions each
 * ```
 */
export async function patchingSweep(
  runner: HookedRunner,
  cfg: ModelConfig,
  inputs: PatchingInputs,
): Promise<PatchingSweep> {
  const { clean, corrupt, batch: N, metric } = inputs;
  const T = positionsOf(cfg, clean, N);
  if (corrupt.length !== clean.length) {
    throw new RangeError(`patching: corrupt has ${corrupt.length} tokens, clean ${clean.length}`);
  }
  const maxRows = inputs.maxRows ?? Math.min(runner.maxBatch, DEFAULT_MAX_ROWS);
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new RangeError(`patching: maxRows must be a positive integer, got ${maxRows}`);
  }
  const variants = variantsOf(cfg, T);
  const names = [...new Set(variants.filter((v) => v.sweep).map((v) => hookOf(v)))];
  // Examples in groups that fit a call, each with its clean cache (only the patched hooks).
  const size = Math.min(N, maxRows);
  const groups: { start: number; n: number; cache: Map<string, Tensor> }[] = [];
  const cleanLogits: Tensor[] = [];
  for (let start = 0; start < N; start += size) {
    const n = Math.min(size, N - start);
    const run = await runner.runWithCache(clean.subarray(start * T, (start + n) * T), n, { names });
    groups.push({ start, n, cache: run.cache });
    cleanLogits.push(run.logits);
  }
  const values: number[] = [];
  const perCall = Math.floor(maxRows / size);
  for (let first = 0; first < variants.length; first += perCall) {
    const chunk = variants.slice(first, first + perCall);
    const logits = chunk.map(() => [] as Tensor[]); // per variant, per group: [n, U]
    for (const g of groups) {
      const tokens = new Int32Array(chunk.length * g.n * T);
      chunk.forEach((_, j) =>
        tokens.set(corrupt.subarray(g.start * T, (g.start + g.n) * T), j * g.n * T)
      );
      const interventions = chunk.flatMap((v, j) => patchOf(v, g.cache, [j * g.n, (j + 1) * g.n]));
      const run = await runner.runWithHooks(tokens, chunk.length * g.n, interventions);
      chunk.forEach((_, j) => logits[j]!.push(slice(run.logits, [[j * g.n, (j + 1) * g.n]])));
    }
    for (const parts of logits) values.push(meanOf(metric(concat(parts)))); // [N, U]
  }
  const take = (sweep: SweepName, layer: number) =>
    variants.flatMap((v, i) => v.sweep === sweep && v.layer === layer ? [values[i]!] : []);
  const layers = Array.from({ length: cfg.n_layers }, (_, l) => l);
  return {
    clean: meanOf(metric(concat(cleanLogits))),
    corrupt: values[0]!,
    resid_pre: layers.map((l) => take("resid_pre", l)),
    head_out: layers.map((l) => take("head_out", l)),
    mlp_out: layers.map((l) => take("mlp_out", l)),
  };
}

/**
 * The logit difference `logits[i, good[i]] − logits[i, bad[i]]` of each example: the usual
 * patching metric (the correct answer's logit against the corrupted input's answer).
 *
 * @example
 * ```ts
 * import { logitDiffMetric } from "./patching.ts";
 * import { tensor } from "../tensor/mod.ts";
 * const metric = logitDiffMetric(new Int32Array([0, 2]), new Int32Array([1, 0]));
 * metric(tensor([5, 1, 0, 2, 0, 7], [2, 3])); // Float64Array [4, 5]
 * ```
 */
export function logitDiffMetric(
  good: Int32Array,
  bad: Int32Array,
): (logits: Tensor) => Float64Array {
  if (good.length !== bad.length) {
    throw new RangeError(`logitDiffMetric: ${good.length} good answers, ${bad.length} bad`);
  }
  return (logits) => {
    const [N, U] = logits.shape as [number, number];
    if (logits.ndim !== 2 || N !== good.length) {
      throw new RangeError(
        `logitDiffMetric: logits [${logits.shape}], expected [${good.length}, U]`,
      );
    }
    return Float64Array.from(
      { length: N },
      (_, i) => logits.data[i * U + good[i]!]! - logits.data[i * U + bad[i]!]!,
    );
  };
}

/** The corrupt baseline, then every patch of the three sweeps, layer by layer. */
function variantsOf(cfg: ModelConfig, T: number): Variant[] {
  const out: Variant[] = [{ layer: 0, at: 0 }];
  const each = (sweep: SweepName, count: number) => {
    for (let layer = 0; layer < cfg.n_layers; layer++) {
      for (let at = 0; at < count; at++) out.push({ sweep, layer, at });
    }
  };
  each("resid_pre", T);
  each("head_out", cfg.n_heads);
  if (!cfg.attn_only) each("mlp_out", T);
  return out;
}

/** The hook a variant patches. */
function hookOf(v: Variant): string {
  const b = `blocks.${v.layer}`;
  return v.sweep === "resid_pre"
    ? `${b}.hook_resid_pre`
    : v.sweep === "head_out"
    ? `${b}.attn.hook_z`
    : `${b}.hook_mlp_out`;
}

/** The patch of a variant into `rows`, from the clean cache (none for the baseline). */
function patchOf(v: Variant, cache: Map<string, Tensor>, rows: [number, number]): Intervention[] {
  if (v.sweep === undefined) return [];
  const name = hookOf(v);
  const where = v.sweep === "head_out" ? { head: v.at } : { pos: v.at };
  return [{ kind: "patch", name, source: cache.get(name)!, rows, ...where }];
}

/** The mean of `values`. */
function meanOf(values: Float64Array): number {
  return values.reduce((s, x) => s + x, 0) / values.length;
}
