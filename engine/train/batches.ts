/**
 * How a task's examples are laid out for training: the training batch (every group's train
 * examples, each scored position weighted k / (the group's scored positions) so the loss is
 * Σ k · mean), and the evaluation batch (every group's train then test examples, in segments whose
 * sums give each metric).
 *
 * @module
 */

import { IGNORE, lastColumn, scoredCounts, type TaskData } from "../data/mod.ts";
import { Rng } from "../tensor/mod.ts";

/** Rows of examples, ready to upload. */
export interface Batch {
  size: number;
  tokens: Int32Array; // [B, n_ctx]
  /** What each position predicts, `IGNORE` where unscored. */
  targets: Int32Array; // [B, n_ctx]
  /** The loss weight of each scored position of the row. */
  weights: Float32Array; // [B]
}

/** One evaluation segment: a group's split, rows `[start, end)` of the evaluation batch. */
export interface Segment {
  group: string;
  split: "train" | "test";
  /** The group's loss coefficient k. */
  weight: number;
  start: number;
  end: number;
  /** Scored positions in rows `[start, end)`: what each metric is a mean over. */
  count: number;
}

/** The examples `rows` of a task as a batch, with their loss weights. */
function rowsOf(task: TaskData, rows: ArrayLike<number>, weights: Float32Array): Batch {
  const T = task.n_ctx;
  const size = rows.length;
  const batch: Batch = {
    size,
    tokens: new Int32Array(size * T),
    targets: new Int32Array(size * T),
    weights,
  };
  for (let b = 0; b < size; b++) {
    const i = rows[b]!;
    batch.tokens.set(task.tokens.subarray(i * T, (i + 1) * T), b * T);
    batch.targets.set(task.targets.subarray(i * T, (i + 1) * T), b * T);
  }
  return batch;
}

/** The scored positions of examples `ix` together. */
function scoredIn(counts: Int32Array, ix: ArrayLike<number>): number {
  let n = 0;
  for (let j = 0; j < ix.length; j++) n += counts[ix[j]!]!;
  return n;
}

/**
 * Groups' examples one after another, each scored position weighing its group's
 * k / (the group's scored positions).
 */
function gather(task: TaskData, indices: Int32Array[], weights: number[]): Batch {
  const counts = scoredCounts(task.targets, task.n_ctx);
  const rows = indices.flatMap((ix) => [...ix]);
  const w = Float32Array.from(
    indices.flatMap((ix, g) => [...ix].map(() => weights[g]! / scoredIn(counts, ix))),
  );
  return rowsOf(task, rows, w);
}

/**
 * The full training batch: every group's train examples, weighted k / count.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { trainBatch } from "./batches.ts";
 * const task = modularTask({ op: "add", p: 5, frac_train: 0.4, data_seed: 0 });
 * trainBatch(task).size; // 10: ⌊0.4 · 25⌋
 * ```
 */
export function trainBatch(task: TaskData): Batch {
  const groups = task.groups.filter((g) => g.train.length > 0);
  return gather(task, groups.map((g) => g.train), groups.map((g) => g.weight));
}

/**
 * How many rows the GPU gives a batch of `n` examples: from 1,024 on, the next multiple of 64 (at
 * most 1/16 more), so each product of the step is whole tiles, the only shapes a software
 * adapter's fastest kernel takes (`matmul_subgroup.wgsl`: the grokking step on lavapipe 4.8 → 2.7
 * s); a hardware GPU's tiles lose nothing. Smaller batches stay as they are: their products are
 * quick either way, and each new shape is a new pipeline to compile.
 *
 * @example
 * ```ts
 * import { alignedRows } from "./batches.ts";
 * alignedRows(3830); // 3840: the grokking preset's training rows
 * alignedRows(264); // 264: the smoke preset's
 * ```
 */
export function alignedRows(n: number): number {
  return n >= 1024 ? Math.ceil(n / 64) * 64 : n;
}

/**
 * The full training batch as the GPU trains it: `trainBatch`'s rows, then rows up to
 * `alignedRows` with token 0, nothing scored and weight 0, which add no loss and no gradient.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { gpuTrainBatch } from "./batches.ts";
 * const task = modularTask({ op: "add", p: 113, frac_train: 0.3, data_seed: 598 });
 * gpuTrainBatch(task).size; // 3840: 3,830 examples and 10 rows of padding
 * ```
 */
export function gpuTrainBatch(task: TaskData): Batch {
  const batch = trainBatch(task);
  const size = alignedRows(batch.size);
  const T = task.n_ctx;
  const tokens = new Int32Array(size * T);
  tokens.set(batch.tokens);
  const targets = new Int32Array(size * T).fill(IGNORE);
  targets.set(batch.targets);
  const weights = new Float32Array(size);
  weights.set(batch.weights);
  return { size, tokens, targets, weights };
}

/**
 * The evaluation batch and its segments: for each group, its train rows then its test rows.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { evalBatch } from "./batches.ts";
 * const task = modularTask({ op: "add", p: 5, frac_train: 0.4, data_seed: 0 });
 * evalBatch(task).segments.map((s) => [s.split, s.start, s.end]); // [["train", 0, 10], ["test", 10, 25]]
 * ```
 */
export function evalBatch(task: TaskData): { batch: Batch; segments: Segment[] } {
  const counts = scoredCounts(task.targets, task.n_ctx);
  const indices: Int32Array[] = [];
  const segments: Segment[] = [];
  let start = 0;
  for (const g of task.groups) {
    for (const split of ["train", "test"] as const) {
      const ix = g[split];
      if (ix.length === 0) continue;
      indices.push(ix);
      const end = start + ix.length;
      segments.push({
        group: g.name,
        split,
        weight: g.weight,
        start,
        end,
        count: scoredIn(counts, ix),
      });
      start += ix.length;
    }
  }
  return { batch: gather(task, indices, indices.map(() => 1)), segments };
}

/**
 * `[N, T]` targets at the positions the GPU model scores (`buildGpuModel`'s `scored`): a one-answer
 * task's last column `[N]` (its logits are computed there alone), or all of them.
 *
 * @example
 * ```ts
 * import { scoredTargets } from "./batches.ts";
 * scoredTargets(Int32Array.of(-1, 4, -1, 6), 2, "last"); // Int32Array [4, 6]
 * ```
 */
export function scoredTargets(
  targets: Int32Array,
  n_ctx: number,
  scored: "last" | "all",
): Int32Array {
  return scored === "last" ? lastColumn(targets, n_ctx) : targets;
}

/**
 * At most this many chunks an evaluation: a minibatch's few rows per chunk would make one
 * evaluation hundreds of submits.
 */
const MAX_EVAL_CHUNKS = 16;

/**
 * How the GPU evaluates a task's `N` examples in row chunks (`gpu_eval.ts`): `count` chunks of
 * `rows` examples, the last padded. A chunk is about a training step's batch (`batch_size`, or
 * every training example), so no buffer of the evaluation outgrows the training step's, but no
 * more than 16 chunks; the rows are spread evenly (`chunkRows`).
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { evalChunks } from "./batches.ts";
 * const task = modularTask({ op: "add", p: 113, frac_train: 0.3, data_seed: 598 });
 * evalChunks(task, 0); // { rows: 3200, count: 4 }: 12,769 examples over 3,830 training rows
 * ```
 */
export function evalChunks(task: TaskData, batchSize: number): { rows: number; count: number } {
  const N = task.groups.reduce((n, g) => n + g.train.length + g.test.length, 0);
  const trainRows = task.groups.reduce((n, g) => n + g.train.length, 0);
  const most = Math.max(batchSize > 0 ? batchSize : trainRows, Math.ceil(N / MAX_EVAL_CHUNKS), 1);
  const count = Math.ceil(N / most);
  return { rows: chunkRows(N, count), count };
}

/**
 * The rows of each of `count` chunks of `N` examples: as even as they go, then `alignedRows`.
 *
 * @example
 * ```ts
 * import { chunkRows } from "./batches.ts";
 * chunkRows(12769, 4); // 3200: 3,193 examples a chunk, and whole tiles of 64 rows
 * ```
 */
export function chunkRows(N: number, count: number): number {
  return alignedRows(Math.ceil(N / count));
}

/**
 * Metrics from per-segment sums of loss and correct (`[G, 2]`, as `segment_sums` writes them).
 * `train/loss`, `train/acc`, `test/loss`, `test/acc` are always pooled: the mean over every train
 * (test) scored position, whatever its group, as `analyze` computes them, so a loss means one thing in
 * the runs table, the curves and the progress view. Several groups add per group
 * `train/loss_NAME`, `test/acc_NAME`, ..., and `train/objective`, the loss the optimiser
 * minimises: Σ_g k_g · (mean loss over g's train scored positions).
 *
 * @example
 * ```ts
 * import { segmentMetrics } from "./batches.ts";
 * const segments = [{ group: "all", split: "train" as const, weight: 1, start: 0, end: 2, count: 2 }];
 * segmentMetrics(segments, [0.5, 1]); // { "train/loss": 0.25, "train/acc": 0.5 }
 * ```
 */
export function segmentMetrics(
  segments: Segment[],
  sums: ArrayLike<number>,
): Record<string, number> {
  const single = new Set(segments.map((s) => s.group)).size === 1;
  const out: Record<string, number> = {};
  const pooled = { train: [0, 0, 0], test: [0, 0, 0] }; // loss sum, correct sum, count
  let objective = 0;
  segments.forEach((s, i) => {
    const n = s.count;
    const loss = sums[2 * i]!;
    const correct = sums[2 * i + 1]!;
    const p = pooled[s.split];
    p[0]! += loss;
    p[1]! += correct;
    p[2]! += n;
    if (s.split === "train") objective += s.weight * loss / n;
    if (!single) {
      out[`${s.split}/loss_${s.group}`] = loss / n;
      out[`${s.split}/acc_${s.group}`] = correct / n;
    }
  });
  for (const split of ["train", "test"] as const) {
    const [loss, correct, n] = pooled[split];
    if (n! === 0) continue;
    out[`${split}/loss`] = loss! / n!;
    out[`${split}/acc`] = correct! / n!;
  }
  if (!single) out["train/objective"] = objective;
  return out;
}

/** A table of minibatches, one row per step: example indices and each example's loss weight. */
export interface BatchTable {
  /** `[steps, size]` example indices. */
  rows: Int32Array;
  /** `[steps, size]` loss weights: k / (the group's scored positions in that batch). */
  weights: Float32Array;
}

/**
 * The minibatches of steps `from .. from + steps - 1`: `size` examples each, drawn with
 * replacement from every group's train examples (as the out-of-context reference samples), from a
 * generator seeded by `seed` and the step alone, so a resumed run draws what an uninterrupted one
 * would. A scored position of group g weighs k_g / (g's scored positions in the batch): the loss
 * stays Σ k · mean over each group present.
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { sampleBatches } from "./batches.ts";
 * const task = modularTask({ op: "add", p: 5, frac_train: 0.4, data_seed: 0 });
 * sampleBatches(task, { size: 4, seed: 1, from: 0, steps: 2 }).rows.length; // 8
 * ```
 */
export function sampleBatches(
  task: TaskData,
  draw: { size: number; seed: number; from: number; steps: number },
): BatchTable {
  const scored = scoredCounts(task.targets, task.n_ctx);
  const pool: number[] = [];
  const groupOf: number[] = [];
  task.groups.forEach((g, gi) => {
    for (const i of g.train) (pool.push(i), groupOf.push(gi));
  });
  const { size, seed, from, steps } = draw;
  const rows = new Int32Array(steps * size);
  const weights = new Float32Array(steps * size);
  for (let s = 0; s < steps; s++) {
    // One generator per step, from (seed, step): 53 bits of a multiplicative hash.
    const stepSeed = BigInt.asUintN(53, BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(from + s));
    const rng = new Rng(Number(stepSeed));
    const picks = Array.from({ length: size }, () => rng.int(pool.length));
    const counts = new Map<number, number>();
    for (const k of picks) {
      counts.set(groupOf[k]!, (counts.get(groupOf[k]!) ?? 0) + scored[pool[k]!]!);
    }
    picks.forEach((k, b) => {
      const g = groupOf[k]!;
      rows[s * size + b] = pool[k]!;
      weights[s * size + b] = task.groups[g]!.weight / counts.get(g)!;
    });
  }
  return { rows, weights };
}

/**
 * The rows of a table as a batch: tokens, targets and weights of step `s` (for the CPU path).
 *
 * @example
 * ```ts
 * import { modularTask } from "../data/mod.ts";
 * import { sampleBatches, tableBatch } from "./batches.ts";
 * const task = modularTask({ op: "add", p: 5, frac_train: 0.4, data_seed: 0 });
 * const table = sampleBatches(task, { size: 4, seed: 1, from: 0, steps: 2 });
 * tableBatch(task, table, 1, 4).tokens.length; // 12: 4 rows of [x, y, =]
 * ```
 */
export function tableBatch(task: TaskData, table: BatchTable, s: number, size: number): Batch {
  const span = [s * size, (s + 1) * size] as const;
  return rowsOf(task, table.rows.subarray(...span), table.weights.slice(...span));
}
